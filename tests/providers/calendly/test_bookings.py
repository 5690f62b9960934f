"""The bookings projection: what it keeps, and that any order of the events, with duplicates, gives the
same table (hypothesis), on both engines."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookline.pipeline.rebuild import rebuild
from hookline.providers.calendly.bookings import BookingsProjection, apply
from hookline.store.engine import Database

EV = "https://api.calendly.com/scheduled_events/EV"
A, B, C = (f"{EV}{n}/invitees/INV{n}" for n in "ABC")
TIMES = ["2026-11-20T10:00:00.000000Z", "2026-11-21T10:00:00.000000Z", "2026-11-22T10:00:00.000000Z"]


def snapshot(event: str, uri: str, at: str, *, status: str = "active", no_show: bool = False, name: str = "Jane",
             old: str | None = None, new: str | None = None, start: str = "2026-12-01T09:00:00.000000Z") -> dict:
    payload: dict[str, Any] = {
        "uri": uri,
        "name": name,
        "email": "jane@example.com",
        "status": status,
        "timezone": "Europe/Paris",
        "event": uri.split("/invitees/")[0],
        "created_at": TIMES[0],
        "updated_at": at,
        "rescheduled": new is not None,
        "old_invitee": old,
        "new_invitee": new,
        "no_show": {"uri": "https://api.calendly.com/invitee_no_shows/NS", "created_at": at} if no_show else None,
        "cancellation": {"reason": "conflict", "canceler_type": "invitee", "created_at": at}
        if status == "canceled"
        else None,
        "questions_and_answers": [{"question": "Topic?", "answer": "Pricing", "position": 0}],
        "tracking": {"utm_source": "newsletter", "utm_campaign": "fall", "utm_medium": "email"},
        "scheduled_event": {
            "uri": uri.split("/invitees/")[0],
            "name": "Demo",
            "event_type": "https://api.calendly.com/event_types/ET1",
            "start_time": start,
            "end_time": start.replace("09:00", "09:30"),
            "status": status,
        },
    }
    return {"account": "acme", "event": event,
            "body": json.dumps({"event": event, "created_at": at, "payload": payload}).encode()}  # fmt: skip


def table(db: Database) -> list[tuple]:
    with db.connection() as conn:
        return conn.fetchall("SELECT * FROM bookings ORDER BY account, invitee_uri")


def fold(db: Database, rows: list[dict]) -> list[tuple]:
    with db.connection() as conn, conn.transaction():
        conn.execute("DELETE FROM bookings")
        for row in rows:
            apply(conn, row)
    return table(db)


def by_uri(db: Database) -> dict[str, dict[str, Any]]:
    with db.connection() as conn:
        cur = conn.execute("SELECT * FROM bookings")
        names = [d[0] for d in cur.description]
        return {r[1]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


def test_snapshots_cancel_no_show_and_reschedule_links(db: Database) -> None:
    stream = [
        snapshot("invitee.created", A, TIMES[0]),
        snapshot("invitee.canceled", A, TIMES[1], status="canceled", new=B),
        snapshot("invitee.created", B, TIMES[1], old=A, start="2026-12-02T09:00:00.000000Z"),
        snapshot("invitee_no_show.created", B, TIMES[2], no_show=True, old=A, start="2026-12-02T09:00:00.000000Z"),
        snapshot("invitee.created", C, TIMES[0]),
        snapshot("invitee_no_show.created", C, TIMES[1], no_show=True),
        snapshot("invitee_no_show.deleted", C, TIMES[2]),
        {"account": "acme", "event": "routing_form_submission.created", "body": b'{"payload": {"uri": "x"}}'},
        {"account": "acme", "event": "invitee.created", "body": b"not json"},
    ]
    fold(db, stream)
    rows = by_uri(db)
    assert set(rows) == {A, B, C}
    a, b, c = rows[A], rows[B], rows[C]
    assert (a["status"], bool(a["rescheduled"]), a["new_invitee"]) == ("canceled", True, B)
    assert a["cancel_reason"] == "conflict"
    assert (b["status"], bool(b["no_show"]), b["old_invitee"], b["id"]) == ("active", True, A, "INVB")
    assert (c["status"], bool(c["no_show"])) == ("active", False)  # the no-show mark was removed later
    assert json.loads(a["questions_and_answers"])[0]["answer"] == "Pricing"
    assert (a["utm_source"], a["utm_campaign"], a["event_name"]) == ("newsletter", "fall", "Demo")
    assert b["start_time"] - a["start_time"] == 86400


def test_a_cancel_is_final_unless_a_newer_snapshot_says_otherwise(db: Database) -> None:
    canceled = snapshot("invitee.canceled", A, TIMES[1], status="canceled")
    same_time_created = snapshot("invitee.created", A, TIMES[1], name="Other")
    assert by_uri_after(db, [canceled, same_time_created])["status"] == "canceled"
    assert by_uri_after(db, [same_time_created, canceled])["status"] == "canceled"
    newer = snapshot("invitee.synced", A, TIMES[2], name="Jane (synced)")
    assert by_uri_after(db, [newer, canceled])["status"] == "active"
    assert by_uri_after(db, [canceled, newer])["name"] == "Jane (synced)"


def test_reschedule_link_is_found_from_either_side_in_either_order(db: Database) -> None:
    old_side = snapshot("invitee.created", A, TIMES[0])  # knows nothing of the reschedule
    new_side = snapshot("invitee.created", B, TIMES[1], old=A)
    first = fold(db, [old_side, new_side])
    assert by_uri(db)[A]["new_invitee"] == B and bool(by_uri(db)[A]["rescheduled"])
    assert fold(db, [new_side, old_side]) == first


def by_uri_after(db: Database, stream: list[dict]) -> dict[str, Any]:
    fold(db, stream)
    return by_uri(db)[A]


def test_the_pipeline_handler_rebuilds_from_the_log(db: Database) -> None:
    with db.connection() as conn:
        for i, row in enumerate([snapshot("invitee.created", A, TIMES[0]), snapshot("invitee.created", C, TIMES[0])]):
            conn.execute(
                "INSERT INTO events (provider, account, event, received_at, dedup_key, last_seen_at, known, body)"
                " VALUES ('calendly', 'acme', ?, 0, ?, 0, TRUE, ?)",
                (row["event"], f"k{i}", row["body"]),
            )
    assert rebuild(db, {"calendly": [BookingsProjection()]}).events == 2
    assert set(by_uri(db)) == {A, C}


@st.composite
def streams(draw: st.DrawFn) -> list[dict]:
    events = []
    for _ in range(draw(st.integers(1, 10))):
        uri = draw(st.sampled_from([A, B, C]))
        kind = draw(st.sampled_from(["invitee.created", "invitee.canceled", "invitee.synced",
                                     "invitee_no_show.created", "invitee_no_show.deleted"]))  # fmt: skip
        at = draw(st.sampled_from(TIMES))
        status = "canceled" if kind == "invitee.canceled" else draw(st.sampled_from(["active", "canceled"]))
        new = B if uri == A and status == "canceled" and draw(st.booleans()) else None
        events.append(snapshot(kind, uri, at, status=status, old=A if uri == B else None, new=new,
                               no_show=kind == "invitee_no_show.created", name=draw(st.sampled_from(["Jo", "Jane"]))))
    return events


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), stream=streams())
def test_any_permutation_with_duplicates_gives_the_same_table(db: Database, data: st.DataObject, stream: list) -> None:
    expected = fold(db, stream)
    shuffled = data.draw(st.permutations(stream))
    duplicates = data.draw(st.lists(st.sampled_from(stream), max_size=4))
    mixed = data.draw(st.permutations(shuffled + duplicates))
    assert fold(db, mixed) == expected
    assert len(expected) == len({json.loads(r["body"])["payload"]["uri"] for r in stream})


def test_the_upsert_lists_the_columns_in_the_order_apply_binds_them() -> None:
    """upsert_booking's text lives in queries.sql, COLUMNS in bookings.py: a column added to one only
    would bind values to the wrong columns."""
    from hookline.providers.calendly.bookings import COLUMNS, Q

    for dialect in ("sqlite", "postgresql"):
        sql = Q.upsert_booking.text(dialect)
        listed = sql.split("(", 1)[1].split(")", 1)[0]
        assert [c.strip() for c in listed.split(",")] == list(COLUMNS)
        assert sql.count("?") == len(COLUMNS) + 2  # then timeparse.EARLIEST and LATEST
