"""Retention policies: only what is old and done goes, in batches, whole events or nothing."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from hookline.providers.registry import providers
from hookline.retention.loop import run_pass
from hookline.retention.policies import DELIVERIES, EVENTS, purge_batch, purged_before, stored, would_delete
from hookline.retention.settings import RetentionSettings
from hookline.store.engine import Database
from hookline.timeparse import iso
from tests.retention.helpers import ago, count, deliveries, destination, old_events, runs
from tests.support import on_engine, run_cli

ALL = RetentionSettings(events_days=30, deliveries_days=30, automation_runs_days=30, pause_seconds=0)


def ids(db: Database) -> set[int]:
    with db.connection() as conn:
        return {int(r[0]) for r in conn.fetchall("SELECT id FROM events")}


def test_only_old_and_done_rows_are_deleted(db: Database) -> None:
    done = old_events(db, 3, ago(70))
    queued = old_events(db, 2, ago(70), with_jobs=True)  # not processed yet
    sent, to_send, ran, to_run = (old_events(db, 2, ago(70)) for _ in range(4))
    recent = old_events(db, 3, ago(1))
    dest = destination(db)
    deliveries(db, dest, sent, "succeeded", ago(70), per_event=2)
    deliveries(db, dest, to_send, "retrying", ago(70))
    deliveries(db, dest, recent, "dead", ago(70))  # an old, finished delivery of a recent event
    deliveries(db, dest, recent, "succeeded", ago(1))
    runs(db, ran, "succeeded", ago(70))
    runs(db, to_run, "pending", ago(70))

    deleted = run_pass(db, ALL, providers())

    assert ids(db) == {*queued, *to_send, *to_run, *recent}
    assert deleted["events"] == len(done) + len(sent) + len(ran)
    # Their finished deliveries and runs went with them; what is still to do stayed.
    assert count(db, "SELECT count(*) FROM deliveries WHERE state = 'retrying'") == len(to_send)
    assert count(db, "SELECT count(*) FROM automation_runs WHERE state = 'pending'") == len(to_run)
    assert count(db, "SELECT count(*) FROM automation_runs WHERE state = 'succeeded'") == 0
    # The deliveries policy removed the recent events' old dead deliveries, not their new ones.
    assert count(db, "SELECT count(*) FROM deliveries WHERE state = 'dead'") == 0
    assert count(db, "SELECT count(*) FROM deliveries WHERE state = 'succeeded'") == len(recent)
    assert count(db, "SELECT count(*) FROM deliveries d WHERE NOT EXISTS"
                     " (SELECT 1 FROM events e WHERE e.id = d.event_id)") == 0
    with db.connection() as conn:
        assert purged_before(conn) is not None


def test_policies_at_zero_keep_everything(db: Database) -> None:
    old_events(db, 5, ago(4000))
    assert run_pass(db, RetentionSettings(), providers()) == {}
    assert len(ids(db)) == 5


def test_purge_goes_in_batches_of_the_configured_size(db: Database) -> None:
    old_events(db, 25, ago(70))
    conn = db.connect()
    try:
        assert purge_batch(conn, EVENTS, ago(30), 10) == 10
        assert len(ids(db)) == 15
    finally:
        conn.close()
    assert run_pass(db, RetentionSettings(events_days=30, batch_size=4, pause_seconds=0), providers())["events"] == 15
    assert ids(db) == set()


def test_retention_show_says_what_would_go(db: Database, database_url: str, tmp_path: Path) -> None:
    old_events(db, 4, ago(70))
    old_events(db, 2, ago(70), with_jobs=True)
    old_events(db, 3, ago(1))
    config = tmp_path / "hookline.toml"
    config.write_text("[retention]\nevents_days = 30\n")
    r = run_cli("retention", "show", "--json", database_url=database_url, env={"HOOKLINE_CONFIG": str(config)})
    assert r.returncode == 0, r.stderr
    shown = {p["policy"]: p for p in json.loads(r.stdout)}
    assert shown["events"]["rows"] == 4 and shown["events"]["held_back"] == 2
    assert shown["events"]["days"] == 30 and shown["events"]["oldest"][:10] == iso(ago(70))[:10]
    # PostgreSQL deletes events whole months at a time: its cutoff is the start of ago(30)'s month.
    cut = datetime.fromtimestamp(ago(30), UTC)
    month = datetime(cut.year, cut.month, 1, tzinfo=UTC)
    expected = month if db.dialect == "postgresql" else cut
    assert abs(datetime.fromisoformat(shown["events"]["before"].replace("Z", "+00:00")) - expected).total_seconds() < 60
    assert shown["deliveries"]["days"] == 0 and shown["deliveries"]["rows"] == 0
    assert shown["events"]["stored_rows"] == 9 and shown["events"]["stored_bytes"] > 9 * 100
    assert shown["events"]["stored_oldest"][:10] == iso(ago(70))[:10]
    assert shown["deliveries"]["stored_rows"] == 0 and shown["timeline"]["stored_oldest"] is None
    assert set(shown) >= {"events", "deliveries", "automation_runs", "timeline"}
    r = run_cli("retention", "show", database_url=database_url, env={"HOOKLINE_RETENTION_EVENTS_DAYS": "-1"})
    assert r.returncode == 2 and "retention" in r.stderr
    assert len(ids(db)) == 9  # show deletes nothing


def test_counts_for_a_page_stop_at_a_limit(db: Database) -> None:
    old_events(db, 6, ago(70))
    old_events(db, 2, ago(70), with_jobs=True)
    with db.connection() as conn:
        exact = would_delete(conn, EVENTS, ago(30))
        assert exact == {"rows": 6, "oldest": exact["oldest"], "held_back": 2, "capped": False}
        assert would_delete(conn, EVENTS, ago(30), limit=100) == exact
        capped = would_delete(conn, EVENTS, ago(30), limit=5)
        assert capped["rows"] == 5 and capped["capped"] and capped["held_back"] is None
        assert capped["oldest"] == exact["oldest"]  # the oldest rows are the ones counted
        assert stored(conn, EVENTS)["rows"] == 8
        empty = stored(conn, DELIVERIES)
        assert empty["rows"] == 0 and empty["oldest"] is None  # (PostgreSQL counts its empty index pages)


def test_purge_batches_adapt_to_the_time_they_take() -> None:
    from hookline.retention.loop import next_size

    assert next_size(800, 0.020, 0.005, 1000) == 200  # four times too long: a quarter
    assert next_size(200, 0.001, 0.005, 1000) == 400  # faster: at most doubles
    assert next_size(800, 0.001, 0.005, 1000) == 1000  # never above batch_size
    assert next_size(200, 1.0, 0.005, 1000) == 100  # never below MIN_BATCH
    assert next_size(200, 1.0, 0.0, 1000) == 1000  # batch_seconds 0: always batch_size


def test_a_pass_waits_for_the_writer_to_be_idle_between_batches(db: Database) -> None:
    old_events(db, 30, ago(70))
    asked: list[float] = []

    def idle() -> bool:  # busy on the first question of each batch, then idle
        asked.append(time.monotonic())
        return len(asked) % 2 == 0

    cfg = RetentionSettings(events_days=30, batch_size=10, batch_seconds=0, pause_seconds=0)
    assert run_pass(db, cfg, providers(), idle=idle)["events"] == 30
    assert len(asked) >= 8 and not ids(db)  # asked before each of the 4 batches (the last finds none left)


@on_engine("sqlite")
def test_sqlite_file_shrinks_after_a_purge(db: Database, database_url: str) -> None:
    with db.connection() as conn:
        assert conn.scalar("PRAGMA auto_vacuum") == 2  # incremental, on a new database
    old_events(db, 3000, ago(70), size=2000)
    with db.connection() as conn:
        before = conn.scalar("PRAGMA page_count")
    run_pass(db, RetentionSettings(events_days=30, pause_seconds=0), providers())
    with db.connection() as conn:
        after = conn.scalar("PRAGMA page_count")
        assert conn.scalar("PRAGMA freelist_count") == 0
    assert after < before / 3


def test_db_vacuum_switches_an_old_database_to_incremental(
    engine: str, db: Database, database_url: str, tmp_path: Path
) -> None:
    import sqlite3

    if engine == "postgresql":
        r = run_cli("db", "vacuum", database_url=database_url)
        assert r.returncode == 0, r.stderr
        assert "vacuumed" in r.stdout
        return
    path = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("CREATE TABLE before_auto_vacuum (x)")  # auto_vacuum can no longer change by itself
    raw.close()
    r = run_cli("db", "vacuum", database_url=f"sqlite:///{path}")
    assert r.returncode == 0, r.stderr
    assert "auto_vacuum=incremental" in r.stdout
    assert sqlite3.connect(path).execute("PRAGMA auto_vacuum").fetchone()[0] == 2


def test_timeline_policy_deletes_old_timeline_rows_and_keeps_the_calls(db: Database, database_url: str) -> None:
    from tests.providers.aircall.test_projections import tables
    from tests.retention.helpers import drain, log_day

    log_day(db, 11, ago(1))
    drain(database_url)
    built = tables(db)
    with db.connection() as conn:
        newest = float(conn.scalar('SELECT max("timestamp") FROM aircall_call_timeline'))
    days = (ago(0) - newest) / 86400 - 1  # every row is older than this
    deleted = run_pass(db, RetentionSettings(timeline_days=days, batch_size=5, pause_seconds=0), providers())
    assert deleted == {"timeline": len(built["aircall_call_timeline"])}
    after = tables(db)
    assert after["aircall_call_timeline"] == [] and after["aircall_calls"] == built["aircall_calls"]
    assert len(ids(db)) > 0  # events are another policy's
