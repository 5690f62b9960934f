"""`hookline rebuild`: the projections recomputed from the log equal what the worker built."""

from __future__ import annotations

import asyncio
import json
import random
import time

from hookline.pipeline import jobs
from hookline.pipeline.worker import Worker
from hookline.providers.aircall.receiver import dedup_key
from hookline.store import events as event_log
from hookline.store.engine import Database
from hookline.types import IncomingEvent
from tests.pipeline.conftest import runtime_for
from tests.providers.aircall.callcenter import call_center_day, shuffled_with_duplicates
from tests.providers.aircall.test_projections import tables
from tests.support import run_cli


def log_events(db: Database, bodies: list[dict]) -> None:
    """Through the log as ingest stores them: deduplicated, a job per new event."""
    events = []
    for b in bodies:
        raw = json.dumps(b).encode()
        data = json.dumps(b["data"]).encode()
        events.append(IncomingEvent(
            provider="aircall", account="acme", event=b["event"], body=raw, received_at=time.time(),
            dedup_key=dedup_key(b["event"], b["data"].get("id"), b["timestamp"], data, raw),
            occurred_at=b["timestamp"],
        ))
    conn = db.connect()
    try:
        for start in range(0, len(events), 37):  # several group commits
            event_log.append_batch(conn, events[start : start + 37], [jobs.enqueue_hook()])
    finally:
        conn.close()


def test_rebuild_recomputes_identical_tables(db: Database, database_url: str) -> None:
    day = call_center_day(99, calls=10)
    log_events(db, shuffled_with_duplicates(day, random.Random(1)))
    worker = Worker(runtime_for(database_url, worker_batch=25))

    async def drain() -> None:
        while await worker.run_once():
            pass

    asyncio.run(drain())
    built = tables(db)
    assert len(built["aircall_calls"]) == 10 and built["aircall_call_timeline"]

    with db.connection() as conn:  # damage: rebuild must not depend on what is there
        conn.execute("UPDATE aircall_calls SET status = 'bogus'")
        conn.execute("DELETE FROM aircall_users")
        conn.execute(
            "INSERT INTO aircall_tags (account, id, name, data) VALUES ('acme', 1, 'ghost', '{}')"
        )
    r = run_cli("rebuild", "--yes", database_url=database_url)
    assert r.returncode == 0, r.stderr
    assert f"from {len(day)} events" in r.stdout
    assert tables(db) == built


def test_backfill_written_by_the_cli_sink_is_queued_and_projected(db: Database, database_url: str) -> None:
    """The CLI backfill appends outside the committer: its new events still get their jobs."""
    from hookline.providers.aircall.backfill import DatabaseSink

    synced = [dict(b, event="call.synced") for b in call_center_day(4, calls=2) if b["event"] == "call.ended"]
    events = [IncomingEvent(provider="aircall", account="acme", event=b["event"], body=json.dumps(b).encode(),
                            received_at=time.time(), dedup_key=f"k{i}", origin="backfill",
                            occurred_at=b["timestamp"]) for i, b in enumerate(synced)]
    asyncio.run(DatabaseSink(db).append(events))
    worker = Worker(runtime_for(database_url))
    assert asyncio.run(worker.run_once()) == 2
    assert len(tables(db)["aircall_calls"]) == 2
