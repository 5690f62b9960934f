"""A call center's events in the log at chosen ages, drained through the worker; rows for the policies."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from hookline.pipeline import jobs
from hookline.pipeline.worker import Worker
from hookline.providers.aircall.receiver import dedup_key
from hookline.store import events as event_log
from hookline.store.engine import Database
from hookline.types import IncomingEvent
from tests.pipeline.conftest import runtime_for
from tests.providers.aircall.callcenter import call_center_day

DAY = 86400.0


def log_day(db: Database, seed: int, received_at: float, calls: int = 4) -> int:
    """One call-center day's events, received `received_at` (one second apart), each with a job."""
    bodies = call_center_day(seed, calls=calls)
    events = []
    for i, b in enumerate(bodies):
        raw = json.dumps(b).encode()
        data = json.dumps(b["data"]).encode()
        events.append(IncomingEvent(
            provider="aircall", account="acme", event=b["event"], body=raw, received_at=received_at + i,
            dedup_key=dedup_key(b["event"], b["data"].get("id"), b["timestamp"], data, raw),
            occurred_at=b["timestamp"],
        ))
    conn = db.connect()
    try:
        for start in range(0, len(events), 50):
            event_log.append_batch(conn, events[start : start + 50], [jobs.enqueue_hook()])
    finally:
        conn.close()
    return len(events)


def drain(database_url: str) -> None:
    worker = Worker(runtime_for(database_url, worker_batch=100))

    async def run() -> None:
        while await worker.run_once():
            pass

    asyncio.run(run())


def event_rows(db: Database) -> list[tuple[Any, ...]]:
    with db.connection() as conn:
        return [
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
            for r in conn.fetchall("SELECT * FROM events ORDER BY id")
        ]


def ago(days: float) -> float:
    return time.time() - days * DAY
