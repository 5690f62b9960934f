"""Aircall projections on both engines: lifecycle ranks, deletions, backfill snapshots, agents,
messages, and the property that any order of any number of deliveries gives the same tables."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookline.pipeline.handlers import Unprocessable
from hookline.providers.aircall.projections import TABLES, AircallProjections
from hookline.store.engine import Database
from hookline.testing.aircall.samples import make_call, make_contact, make_number, make_user, sample_event
from tests.providers.aircall.callcenter import (
    call_center_day,
    envelope,
    shuffled_with_duplicates,
    stored,
    with_ids,
)

HANDLER = AircallProjections()
KEYS = {
    "aircall_call_timeline": "account, call_id, event_id",
    "aircall_call_intelligence": "account, kind, result_id",
    "aircall_wrap_up_events": "account, resource_id, occurred_at, event_id",
    "aircall_wrap_up_days": "start_day, end_day, account, user_id",
}


def apply(db: Database, events: Iterable[tuple[int, dict[str, Any]]], batch: int = 1000) -> None:
    items = list(events)
    conn = db.connect()
    try:
        for start in range(0, len(items), batch):
            with conn.transaction():
                HANDLER.apply(conn, [stored(i, body) for i, body in items[start : start + batch]])
    finally:
        conn.close()


def reset(db: Database) -> None:
    with db.connection() as conn, conn.transaction():
        HANDLER.reset(conn)


def tables(db: Database, drop: Sequence[str] = ()) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with db.connection() as conn:
        for table in TABLES:
            cur = conn.execute(f"SELECT * FROM {table} ORDER BY {KEYS.get(table, 'account, id')}")
            names = [d[0] for d in cur.description]
            keep = [i for i, n in enumerate(names) if n not in drop]
            out[table] = [tuple(row[i] for i in keep) for row in cur.fetchall()]
    return out


def one(db: Database, sql: str, params: Sequence[Any] = ()) -> dict[str, Any]:
    with db.connection() as conn:
        cur = conn.execute(sql, params)
        row = cur.fetchone()
        assert row is not None, sql
        return dict(zip([d[0] for d in cur.description], row, strict=True))


def test_a_call_is_its_latest_snapshot_whatever_the_order(db: Database) -> None:
    day = [e for e in call_center_day(1, calls=1) if e["event"].startswith("call.")]
    apply(db, reversed(with_ids(day)))
    call = one(db, "SELECT * FROM aircall_calls")
    last = max(day, key=lambda e: (e["timestamp"], e["event"] in ("call.tagged", "call.commented")))
    assert call["status"] == "done" and call["last_event"] == last["event"]
    assert call["started_at"] == day[0]["data"]["started_at"] and call["ended_at"] is not None
    with db.connection() as conn:
        assert conn.scalar("SELECT count(*) FROM aircall_call_timeline") == len(day)


def test_ties_within_a_second_follow_the_lifecycle(db: Database) -> None:
    rng = random.Random(5)
    user, number = make_user(rng, 1), make_number(rng, 2)
    ts = 1_750_000_000
    hungup = make_call(random.Random(1), 42, user=user, number=number, contact=None, status="done", started_at=ts)
    ended = dict(hungup, duration=hungup["duration"] + 1, recording="https://example.com/r.mp3")
    events = with_ids([envelope("call.ended", ts + 60, ended), envelope("call.hungup", ts + 60, hungup)])
    for order in (events, events[::-1]):
        reset(db)
        apply(db, order)
        call = one(db, "SELECT last_event, has_recording FROM aircall_calls")
        assert call["last_event"] == "call.ended" and call["has_recording"]


def test_deletion_wins_and_stale_updates_do_not_resurrect(db: Database) -> None:
    c = make_contact(random.Random(3), 77)
    t = 1_750_000_000
    events = with_ids([
        envelope("contact.created", t, c),
        envelope("contact.deleted", t + 100, c),
        envelope("contact.updated", t + 50, dict(c, first_name="Stale")),
        envelope("contact.updated", t + 100, dict(c, first_name="Same second")),
    ])
    for seed in range(4):
        reset(db)
        apply(db, shuffled_with_duplicates(events, random.Random(seed)))
        contact = one(db, "SELECT deleted, first_name FROM aircall_contacts WHERE id = 77")
        assert bool(contact["deleted"]) and contact["first_name"] == c["first_name"]
    apply(db, [(9, envelope("contact.updated", t + 200, dict(c, first_name="Recreated")))])
    contact = one(db, "SELECT deleted, first_name FROM aircall_contacts WHERE id = 77")
    assert not contact["deleted"] and contact["first_name"] == "Recreated"  # a newer snapshot is newer


def test_backfill_snapshots_fill_gaps_but_never_override_newer(db: Database) -> None:
    rng = random.Random(9)
    user, number = make_user(rng, 1), make_number(rng, 2)
    ts = 1_750_000_000
    webhook = make_call(random.Random(1), 7, user=user, number=number, contact=None, status="done", started_at=ts)
    older = dict(webhook, status="answered")
    newer = dict(webhook, archived=True)
    apply(db, [(1, envelope("call.ended", ts + 100, webhook)), (2, envelope("call.synced", ts + 50, older)),
               (3, envelope("call.synced", ts + 100, older))])  # older, and the same second: both lose
    call = one(db, "SELECT status, archived, last_event FROM aircall_calls WHERE id = 7")
    assert call["status"] == "done" and call["last_event"] == "call.ended"
    apply(db, [(4, envelope("call.synced", ts + 500, newer))])  # read from the API later: newer state
    call = one(db, "SELECT status, archived, last_event FROM aircall_calls WHERE id = 7")
    assert bool(call["archived"]) and call["last_event"] == "call.synced"
    apply(db, [(5, envelope("call.synced", ts + 900, webhook))])  # a gap filled: a call never seen before
    with db.connection() as conn:
        assert conn.scalar("SELECT count(*) FROM aircall_call_timeline WHERE call_id = 7") == 1  # webhooks only


def test_agents_presence_and_wrap_up_are_order_independent(db: Database) -> None:
    rng = random.Random(11)
    u = make_user(rng, 5, v2=True)
    t = 1_750_000_000
    events = with_ids([
        envelope("user.connected.v2", t, u),
        envelope("user.wut_start.v2", t + 10, u),
        envelope("user.wut_end.v2", t + 40, u),
        envelope("user.closed.v2", t + 50, dict(u, available=False, availability_status="unavailable",
                                                 substatus="Out for lunch")),
        envelope("user.disconnected.v2", t + 60, dict(u, available=False, availability_status="unavailable")),
        envelope("user.connected.v2", t + 30, u),  # an older connect arriving last changes nothing
    ])
    for seed in range(3):
        reset(db)
        apply(db, shuffled_with_duplicates(events, random.Random(seed)))
        agent = one(db, "SELECT * FROM aircall_users WHERE id = 5")
        assert not agent["connected"] and not agent["in_wrap_up"] and agent["last_seen"] == t + 60
        assert agent["availability_status"] == "unavailable" and not agent["available"]


def test_unprocessable_payload(db: Database) -> None:
    bad = envelope("call.ended", 1_750_000_000, {"id": "not-a-number"})
    with pytest.raises(Unprocessable, match=r"call\.ended"):
        apply(db, [(1, bad)])
    # Unknown types are skipped (stored in the log; a rebuild after an upgrade projects them).
    unknown = {"resource": "call", "event": "call.future_thing", "timestamp": 1, "token": "t", "data": {"id": 1}}
    conn = db.connect()
    try:
        with conn.transaction():
            HANDLER.apply(conn, [stored(3, unknown)])
    finally:
        conn.close()
    with db.connection() as conn:
        assert conn.scalar("SELECT count(*) FROM aircall_calls") == 0


def test_intelligence_and_messages(db: Database) -> None:
    day = call_center_day(21, calls=4)
    apply(db, with_ids(day))
    with db.connection() as conn:
        kinds = dict(conn.fetchall("SELECT kind, count(*) FROM aircall_call_intelligence GROUP BY kind"))
        statuses = {r[0] for r in conn.fetchall("SELECT status FROM aircall_messages")}
        orphans = conn.scalar(
            "SELECT count(*) FROM aircall_call_intelligence i WHERE NOT EXISTS"
            " (SELECT 1 FROM aircall_calls c WHERE c.account = i.account AND c.id = i.call_id)"
        )
    answered = sum(1 for e in day if e["event"] == "call.answered")
    assert kinds == {"transcription": answered, "summary": answered, "sentiment": answered}
    assert statuses == {"delivered"} and orphans == 0


# --- the property ----------------------------------------------------------------------------

@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    day_seed=st.integers(0, 10_000),
    order_seed=st.integers(0, 2**32),
    batch=st.sampled_from([1, 7, 50, 1000]),
)
def test_any_order_with_duplicates_gives_identical_tables(db: Database, day_seed: int, order_seed: int,
                                                          batch: int) -> None:
    events = with_ids(call_center_day(day_seed))
    reset(db)
    apply(db, events)
    expected = tables(db)
    assert expected["aircall_calls"] and expected["aircall_users"]
    reset(db)
    apply(db, shuffled_with_duplicates(events, random.Random(order_seed)), batch=batch)
    assert tables(db) == expected


def test_sample_of_every_event_type_projects(db: Database) -> None:
    from hookline.providers.aircall.catalog import CATALOG, SYNCED

    events = with_ids([sample_event(name) for name in [*CATALOG, *SYNCED]])
    apply(db, events)
    with db.connection() as conn:
        # Wrap-up pairs need a start before an end: the samples hold one of each in no given order.
        counts = {t: conn.scalar(f"SELECT count(*) FROM {t}") for t in TABLES if t != "aircall_wrap_up_days"}
    assert all(counts.values()), counts
