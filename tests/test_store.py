"""The event log and migrations, directly on both engines."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from hookline.assembly import migration_sources
from hookline.providers.registry import providers
from hookline.store import events as event_log
from hookline.store import migrations
from hookline.store.engine import Database
from hookline.types import IncomingEvent
from tests.support import on_engine


def make(key: str, account: str = "acme", body: bytes = b"{}") -> IncomingEvent:
    return IncomingEvent("aircall", account, "call.created", key, body, time.time(), resource="call")


def test_migrations_are_recorded_and_idempotent(db: Database) -> None:
    assert migrations.upgrade(db, migration_sources(providers())) == []
    assert migrations.pending(db, migration_sources(providers())) == []
    with db.connection() as conn:
        components = {c for (c,) in conn.fetchall("SELECT component FROM schema_migrations")}
    assert {"core", "aircall"} <= components


def test_append_batch_dedups_within_and_across_batches(db: Database) -> None:
    conn = db.connect(writer=True)
    try:
        first = event_log.append_batch(conn, [make("a"), make("b"), make("a"), make("a", account="other")])
        assert [r.duplicate for r in first] == [False, False, True, False]
        assert first[0].id == first[2].id
        second = event_log.append_batch(conn, [make("b"), make("c")])
        assert second[0].id == first[1].id and second[0].duplicate and not second[1].duplicate
        assert event_log.count_events(conn) == 4
        meta, body = event_log.get_event(conn, first[0].id) or ({}, b"")
        assert meta["duplicate_count"] == 1 and body == b"{}"
    finally:
        conn.close()


def test_event_counts_follow_appends_and_roll_back_with_them(db: Database) -> None:
    """/api/stats reads event_counts (issue 16): what the log took in, without counting the log."""
    conn = db.connect(writer=True)

    def failing_hook(c, events, results) -> None:
        raise RuntimeError("boom")

    try:
        event_log.append_batch(conn, [make("a"), make("b"), make("a")])
        event_log.append_batch(conn, [make("b"), make("c")])
        with contextlib.suppress(RuntimeError):
            event_log.append_batch(conn, [make("d"), make("a")], [failing_hook])
        assert event_log.counts(conn) == (3, 2)
        received, duplicates = conn.fetchone("SELECT count(*), sum(duplicate_count) FROM events")
        assert (received, duplicates) == (3, 2)
    finally:
        conn.close()


def test_the_committers_counts_are_held_back_but_counted(db: Database, monkeypatch) -> None:
    """The group committer writes event_counts at most every COUNTS_EVERY seconds (one page less per
    commit); counts() adds what the process holds, and flush_counts() writes it (at the committer's stop)."""
    monkeypatch.setattr(event_log, "_PENDING", {})
    monkeypatch.setattr(event_log, "COUNTS_EVERY", 3600.0)
    conn = db.connect(writer=True)

    def failing_hook(c, events, results) -> None:
        raise RuntimeError("boom")

    try:
        stored = conn.fetchone("SELECT COALESCE(sum(received), 0), COALESCE(sum(duplicates), 0) FROM event_counts")
        event_log.append_batch(conn, [make("a"), make("b"), make("a")], defer_counts=True)
        with contextlib.suppress(RuntimeError):
            event_log.append_batch(conn, [make("d"), make("a")], [failing_hook], defer_counts=True)
        event_log.append_batch(conn, [make("c")], defer_counts=True)
        assert event_log.counts(conn) == (stored[0] + 3, stored[1] + 1)
        assert conn.fetchone("SELECT COALESCE(sum(received), 0) FROM event_counts")[0] == stored[0]  # held
        event_log.flush_counts(conn)
        assert conn.fetchone("SELECT COALESCE(sum(received), 0), COALESCE(sum(duplicates), 0) FROM event_counts") \
            == (stored[0] + 3, stored[1] + 1)
        assert event_log.counts(conn) == (stored[0] + 3, stored[1] + 1)  # nothing counted twice
        monkeypatch.setattr(event_log, "COUNTS_EVERY", 0.0)  # due: the next batch writes what is held too
        event_log.append_batch(conn, [make("e")], defer_counts=True)
        event_log.append_batch(conn, [make("f")], defer_counts=True)
        assert conn.fetchone("SELECT COALESCE(sum(received), 0) FROM event_counts")[0] == stored[0] + 5
        assert event_log.counts(conn)[0] == stored[0] + 5
        monkeypatch.setattr(event_log, "COUNTS_EVERY", 3600.0)
        other = db.connect()  # another connection to the same database sees what is held too
        try:
            event_log.append_batch(conn, [make("g")], defer_counts=True)
            assert conn.fetchone("SELECT COALESCE(sum(received), 0) FROM event_counts")[0] == stored[0] + 5
            assert event_log.counts(other)[0] == stored[0] + 6
        finally:
            other.close()
    finally:
        conn.close()


def test_event_counts_start_from_the_events_already_stored(database_url: str, tmp_path: Path) -> None:
    """The migration that adds event_counts counts the log once, so an upgrade keeps /api/stats true."""
    db = Database(database_url)
    core = migrations.core_source()
    (tmp_path / "core").mkdir()
    for path in sorted(core.directory.glob("*.sql")):  # the core's migrations up to the one before event_counts
        if int(path.name[:4]) < 3:
            (tmp_path / "core" / path.name).write_text(path.read_text())
    try:
        migrations.upgrade(db, [migrations.MigrationSource("core", tmp_path / "core")])
        conn = db.connect(writer=True)
        try:
            with conn.transaction():
                for key in ("x", "y", "x"):  # the statement of the one-table log (before event_partitions)
                    conn.execute(event_log.Q.append_event.sqlite, event_log._row(make(key)))
        finally:
            conn.close()
        migrations.upgrade(db, migration_sources(providers()))
        with db.connection() as conn:
            assert event_log.counts(conn) == (2, 1)
    finally:
        db.close()


def test_hooks_run_in_the_same_transaction(db: Database) -> None:
    conn = db.connect(writer=True)

    def failing_hook(c, events, results) -> None:
        raise RuntimeError("boom")

    try:
        with contextlib.suppress(RuntimeError):
            event_log.append_batch(conn, [make("x")], [failing_hook])
        assert event_log.count_events(conn) == 0  # rolled back with the hook
        seen = []
        event_log.append_batch(conn, [make("y")], [lambda c, e, r: seen.extend(x.id for x in r)])
        assert len(seen) == 1
    finally:
        conn.close()


def test_binary_body_is_kept_byte_for_byte(db: Database) -> None:
    raw = bytes(range(256)) * 4
    conn = db.connect(writer=True)
    try:
        (res,) = event_log.append_batch(conn, [make("bin", body=raw)])
        found = event_log.get_event(conn, res.id)
        assert found is not None and found[1] == raw
    finally:
        conn.close()


def test_list_filters_and_cursor(db: Database) -> None:
    conn = db.connect(writer=True)
    try:
        event_log.append_batch(conn, [make(f"k{i}", account="acme" if i % 2 else "globex") for i in range(10)])
        everything = event_log.list_events(conn, event_log.EventFilter(), 100)
        assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
        acme = event_log.list_events(conn, event_log.EventFilter(account="acme"), 100)
        assert len(acme) == 5 and {e["account"] for e in acme} == {"acme"}
        page = event_log.list_events(conn, event_log.EventFilter(before_id=everything[3]["id"]), 3)
        assert [e["id"] for e in page] == [e["id"] for e in everything[4:7]]
    finally:
        conn.close()


@on_engine("sqlite")
def test_sqlite_gets_statistics_after_migrations(db: Database) -> None:
    """Without ANALYZE, SQLite's planner guesses (the call page's AI-results query scanned 232k rows
    through the primary key): migrations end with one, connections run PRAGMA optimize."""
    with db.connection() as conn:
        assert conn.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'") == 1
        assert conn.scalar("PRAGMA analysis_limit") == 400
