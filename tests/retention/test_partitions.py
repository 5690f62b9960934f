"""PostgreSQL's events table partitioned by month (store/partitions.py): dedup stays global, an event with no
month partition still lands, retention drops whole expired months and survives being stopped between its
steps. What the engines share (dedup, what retention keeps) runs on both."""

from __future__ import annotations

import calendar
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from hookline.assembly import migration_sources
from hookline.pipeline import jobs
from hookline.providers.registry import providers
from hookline.retention.loop import run_pass
from hookline.retention.policies import EVENTS, expired_months, purge_month_batch, purged_before
from hookline.retention.settings import RetentionSettings
from hookline.store import events as event_log
from hookline.store import migrations, partitions
from hookline.store.engine import Database
from hookline.types import IncomingEvent
from tests.retention.helpers import ago, count, deliveries, destination, old_events, runs
from tests.support import on_engine

ALL = RetentionSettings(events_days=30, pause_seconds=0, batch_size=4)


def month_start(offset: int, now: float | None = None) -> float:
    """Unix time of the first second of the UTC month `offset` months from now's."""
    today = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    index = today.year * 12 + today.month - 1 + offset
    return float(calendar.timegm((index // 12, index % 12 + 1, 1, 0, 0, 0)))


def event(key: str, received_at: float) -> IncomingEvent:
    return IncomingEvent(
        provider="test", account="a", event="thing.done", body=json.dumps({"k": key}).encode(),
        received_at=received_at, dedup_key=key, occurred_at=received_at,
    )


def append(db: Database, *events: IncomingEvent) -> list[event_log.AppendResult]:
    conn = db.connect()
    try:
        return event_log.append_batch(conn, list(events), [jobs.enqueue_hook()])
    finally:
        conn.close()


def where(db: Database, event_id: int) -> str:
    """The partition holding an event."""
    with db.connection() as conn:
        return str(conn.scalar("SELECT tableoid::regclass::text FROM events WHERE id = ?", (event_id,)))


def keys_match_events(db: Database) -> bool:
    """Every key has its event and every event its key (PostgreSQL's two tables agree)."""
    with db.connection() as conn:
        keys = {tuple(r) for r in conn.fetchall("SELECT id, received_at FROM event_keys")}
        rows = {tuple(r) for r in conn.fetchall("SELECT id, received_at FROM events")}
    return keys == rows


def ids(db: Database) -> set[int]:
    with db.connection() as conn:
        return {int(r[0]) for r in conn.fetchall("SELECT id FROM events")}


def test_a_duplicate_across_a_month_boundary_is_recognised(db: Database) -> None:
    boundary = month_start(1)  # this month and the next both have a partition on PostgreSQL
    (first,) = append(db, event("call-1", boundary - 60))
    (again,) = append(db, event("call-1", boundary + 60))
    assert not first.duplicate and again.duplicate and again.id == first.id
    with db.connection() as conn:
        rows = conn.fetchall("SELECT id, received_at, duplicate_count, last_seen_at FROM events")
        assert conn.scalar("SELECT count(*) FROM jobs") == 1
    assert [tuple(r) for r in rows] == [(first.id, boundary - 60, 1, boundary + 60)]


@on_engine("postgresql")
def test_months_have_their_partitions_and_dedup_spans_them(db: Database) -> None:
    boundary = month_start(1)
    a, b = append(db, event("x", boundary - 1), event("y", boundary))
    assert where(db, a.id) == "events_p" + datetime.fromtimestamp(boundary - 1, UTC).strftime("%Y%m")
    assert where(db, b.id) == "events_p" + datetime.fromtimestamp(boundary, UTC).strftime("%Y%m")
    (dup,) = append(db, event("y", boundary - 1000))  # same key, received in the earlier month
    assert dup.duplicate and dup.id == b.id and keys_match_events(db)


def test_an_event_of_a_month_without_partition_still_lands(db: Database) -> None:
    far_past, far_future = month_start(-80), month_start(30)
    old, new = append(db, event("old", far_past + 5), event("new", far_future + 5))
    with db.connection() as conn:
        assert [event_log.get_event(conn, i)[1] for i in (old.id, new.id)] == [b'{"k": "old"}', b'{"k": "new"}']
    assert sorted(ids(db)) == [old.id, new.id]


@on_engine("postgresql")
def test_the_default_partition_takes_them_and_keeps_its_month(db: Database) -> None:
    (old,) = append(db, event("old", month_start(-80) + 5))
    assert where(db, old.id) == "events_default"
    with db.connection() as conn:  # that month cannot get a partition now: its event stays where it is
        assert partitions.create_ahead(conn, now=month_start(-80), ahead=1) == 1
        assert partitions.months(conn)[0].name == "events_p" + datetime.fromtimestamp(
            month_start(-79), UTC
        ).strftime("%Y%m")
    assert where(db, old.id) == "events_default" and keys_match_events(db)


def old_months(db: Database) -> tuple[float, float]:
    """Partitions for the last four months (PostgreSQL); the starts of two months wholly past the cutoff."""
    with db.connection() as conn:
        partitions.create_ahead(conn, now=month_start(-4), ahead=4)
    return month_start(-4), month_start(-3)


def test_retention_drops_expired_months_and_deletes_the_rest_row_by_row(db: Database) -> None:
    """SQLite deletes every old event; PostgreSQL whole months only (dropped with their partition), and row
    by row what the default partition holds and what a month still needs held back."""
    gone_month, held_month = old_months(db)
    dropped = old_events(db, 6, gone_month + 3600)
    dest = destination(db)
    deliveries(db, dest, dropped, "succeeded", gone_month)
    runs(db, dropped[:2], "succeeded", gone_month)
    held_done = old_events(db, 3, held_month + 3600)
    held = old_events(db, 1, held_month + 7200, with_jobs=True)  # not processed yet: its month stays
    in_default = old_events(db, 2, month_start(-80) + 5)  # a month with no partition: the default one
    cut = ago(30)
    cut_month = month_start(0, cut)
    partial_old = old_events(db, 2, (cut_month + cut) / 2)  # older than the cutoff, in the cutoff's month
    partial_new = old_events(db, 2, ago(29))
    recent = old_events(db, 2, ago(1))

    deleted = run_pass(db, ALL, providers())

    whole_months = db.dialect == "postgresql"
    kept = {*held, *partial_new, *recent, *(partial_old if whole_months else ())}
    assert deleted["events"] == len(dropped) + len(held_done) + len(in_default) + len(partial_old) * (not whole_months)
    assert ids(db) == kept
    assert count(db, "SELECT count(*) FROM deliveries") == 0
    assert count(db, "SELECT count(*) FROM automation_runs") == 0
    with db.connection() as conn:
        assert purged_before(conn) is not None
        names = [m.name for m in partitions.months(conn)]
    if db.dialect == "postgresql":
        assert names[0] == "events_p" + datetime.fromtimestamp(held_month, UTC).strftime("%Y%m")
        assert keys_match_events(db)
    else:
        assert names == []


@on_engine("postgresql")
def test_an_expired_months_keys_go_in_batches_sized_by_time(db: Database) -> None:
    """batch_seconds bounds the month's key batches as it bounds row batches (each batch starts when the
    writer is idle: `idle` is asked once a batch): all at the floor of 100 when every batch is too slow."""
    gone_month, _ = old_months(db)
    expired = old_events(db, 250, gone_month + 3600)
    asked: list[float] = []

    def idle() -> bool:
        asked.append(time.monotonic())
        return True

    with db.connection() as conn:
        months = expired_months(conn, EVENTS, ago(30))
    assert gone_month in [m.start for m in months]
    cfg = RetentionSettings(events_days=30, pause_seconds=0, batch_size=1000, batch_seconds=1e-9)
    deleted = run_pass(db, cfg, providers(), idle=idle)
    assert deleted["events"] == len(expired) and not ids(db) & set(expired) and keys_match_events(db)
    # The month's keys in 100, 100 and 50 (with batches of batch_size: one), one empty batch for each
    # other expired month, then the row-by-row pass, which finds none.
    assert len(asked) == 3 + (len(months) - 1) + 1


@on_engine("postgresql")
def test_a_purge_stopped_between_its_steps_loses_nothing_and_finishes_later(db: Database) -> None:
    gone_month, held_month = old_months(db)
    expired = old_events(db, 10, gone_month + 3600)
    dest = destination(db)
    deliveries(db, dest, expired[:1], "retrying", gone_month)  # still to send: keeps its event
    queued = old_events(db, 1, held_month + 3600, with_jobs=True)
    recent = old_events(db, 3, ago(1))
    with db.connection() as conn:
        def expired_starts() -> list[float]:
            return [m.start for m in expired_months(conn, EVENTS, ago(30)) if m.start < month_start(-2)]

        assert expired_starts() == []  # the undelivered event holds its month back, the queued one the next
        conn.execute("UPDATE deliveries SET state = 'succeeded'")
        assert expired_starts() == [gone_month]
        month = partitions.months(conn)[0]
        # Step 1 stopped after one batch: some keys gone (their finished delivery with them), rows still there.
        assert purge_month_batch(conn, EVENTS, month, 4) == 4
        assert ids(db) == {*expired, *queued, *recent}
        assert count(db, "SELECT count(*) FROM deliveries") == 0
        assert count(db, "SELECT count(*) FROM event_keys") == len(expired) + len(queued) + len(recent) - 4
        # The drop refuses while a key of the month is left.
        assert not partitions.drop_month(conn, month)
        assert ids(db) == {*expired, *queued, *recent}
    # A later pass finishes: the month dropped whole, the queued event (and its month) kept.
    deleted = run_pass(db, RetentionSettings(events_days=30, pause_seconds=0), providers())
    assert deleted["events"] == len(expired) - 4
    assert ids(db) == {*queued, *recent} and keys_match_events(db)
    with db.connection() as conn:
        assert partitions.months(conn)[0].start == held_month


@on_engine("postgresql")
def test_a_busy_events_table_postpones_the_drop(db: Database, database_url: str, monkeypatch) -> None:
    gone_month, _ = old_months(db)
    old_events(db, 2, gone_month + 3600)
    monkeypatch.setattr(partitions, "LOCK_TIMEOUT", "100ms")
    with db.connection() as conn:
        (month,) = [m for m in expired_months(conn, EVENTS, ago(30)) if m.start == gone_month]
        purge_month_batch(conn, EVENTS, month, 10)
        with psycopg.connect(database_url) as reader:
            reader.execute("SELECT count(*) FROM events")  # holds its lock until the transaction ends
            started = time.monotonic()
            assert not partitions.drop_month(conn, month)
            assert time.monotonic() - started < 2
        assert month.name in [m.name for m in partitions.months(conn)]
        assert partitions.drop_month(conn, month)


def _before_partitions(db: Database, tmp_path: Path) -> list[migrations.MigrationSource]:
    sources = [s for s in migration_sources(providers()) if s.component != "event_partitions"]
    migrations.upgrade(db, sources)
    return sources


@on_engine("postgresql")
def test_the_migration_moves_every_event_into_its_month(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    try:
        _before_partitions(db, tmp_path)
        times = [month_start(-2) + 10, month_start(-1) + 10, month_start(0) + 10, month_start(-80)]
        conn = db.connect()
        try:
            with conn.transaction():  # the statement of the one-table log
                for i, at in enumerate([*times, times[0]]):
                    conn.execute(event_log.Q.append_event.sqlite, event_log._row(event(f"k{i % 4}", at)))
            before = [tuple(r) for r in conn.fetchall("SELECT * FROM events ORDER BY id")]
            dest = destination(db)
            deliveries(db, dest, [int(before[0][0])], "succeeded", times[0])
        finally:
            conn.close()

        migrations.upgrade(db, migration_sources(providers()))

        with db.connection() as conn:
            after = [tuple(r) for r in conn.fetchall("SELECT * FROM events ORDER BY id")]
            homes = [str(r[0]) for r in conn.fetchall("SELECT tableoid::regclass::text FROM events ORDER BY id")]
        assert after == before and before[0][9] == 1  # the duplicate's count came along
        assert homes[:3] == ["events_p" + datetime.fromtimestamp(t, UTC).strftime("%Y%m") for t in times[:3]]
        assert homes[3] == "events_default"  # older than three years: not given a partition
        assert keys_match_events(db)
        new, dup = append(db, event("fresh", time.time()), event("k1", time.time()))
        assert new.id > max(int(r[0]) for r in before) and dup.duplicate and dup.id == int(before[1][0])
        with db.connection() as conn, conn.transaction():  # deliveries now follow the event's key
            conn.execute("DELETE FROM events WHERE id = ?", (int(before[0][0]),))
        assert count(db, "SELECT count(*) FROM deliveries") == 0 and keys_match_events(db)
    finally:
        db.close()


def test_replays_read_every_event_in_id_order_across_months(db: Database) -> None:
    stamps = [month_start(1) + 5, month_start(-80), month_start(0) + 5, month_start(1) - 5, month_start(30)]
    made = [r.id for r in append(db, *(event(f"r{i}", t) for i, t in enumerate(stamps)))]
    with db.connection() as conn:
        paged = [e.id for e in event_log.page_events(conn, ["test"], 0, 100)]
        loaded = [e.id for e in event_log.load_events(conn, list(reversed(made)))]
        listed = [e["id"] for e in event_log.list_events(conn, event_log.EventFilter(), 100)]
    assert paged == loaded == sorted(made) and listed == sorted(made, reverse=True)
