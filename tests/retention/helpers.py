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
        events.append(
            IncomingEvent(
                provider="aircall",
                account="acme",
                event=b["event"],
                body=raw,
                received_at=received_at + i,
                dedup_key=dedup_key(b["event"], b["data"].get("id"), b["timestamp"], data, raw),
                occurred_at=b["timestamp"],
            )
        )
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


def old_events(db: Database, n: int, received_at: float, *, with_jobs: bool = False, size: int = 200) -> list[int]:
    """n plain events (no projections), `size` bytes of body each; their ids."""
    from hookline.types import IncomingEvent as Ev

    pad = "x" * size
    events = [
        Ev(
            provider="test",
            account="a",
            event="thing.done",
            body=json.dumps({"n": i, "pad": pad}).encode(),
            received_at=received_at + i * 0.001,
            dedup_key=f"k{received_at}-{i}",
            occurred_at=received_at,
        )
        for i in range(n)
    ]
    conn = db.connect()
    ids: list[int] = []
    try:
        for start in range(0, n, 500):
            hooks = [jobs.enqueue_hook()] if with_jobs else []
            ids += [r.id for r in event_log.append_batch(conn, events[start : start + 500], hooks)]
    finally:
        conn.close()
    return ids


def destination(db: Database) -> int:
    with db.connection() as conn:
        return int(
            conn.scalar(
                "INSERT INTO destinations (name, url, secret, created_at)"
                " VALUES ('d', 'http://127.0.0.1:9/', 'whsec_x', 0) RETURNING id"
            )
        )


def deliveries(
    db: Database, dest: int, event_ids: list[int], state: str, created_at: float, per_event: int = 1
) -> None:
    rows = [
        (dest, e, f"msg_{e}_{k}_{state}", state, created_at, created_at, created_at, created_at, created_at)
        for e in event_ids
        for k in range(per_event)
    ]
    with db.connection() as conn, conn.transaction():
        for row in rows:
            conn.execute(
                "INSERT INTO deliveries (destination_id, event_id, webhook_id, state, occurred_at, created_at,"
                " started_at, next_attempt_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )


def runs(db: Database, event_ids: list[int], state: str, created_at: float) -> None:
    with db.connection() as conn, conn.transaction():
        rule = conn.scalar("SELECT id FROM rules WHERE name = 'r'")
        if rule is None:
            rule = conn.scalar(
                "INSERT INTO rules (name, spec, created_at, updated_at) VALUES ('r', '{}', 0, 0) RETURNING id"
            )
        for e in event_ids:
            conn.execute(
                "INSERT INTO automation_runs (rule_id, rule_name, event_id, state, run_at, created_at, updated_at)"
                " VALUES (?, 'r', ?, ?, ?, ?, ?)",
                (rule, e, state, created_at, created_at, created_at),
            )


def count(db: Database, sql: str, params: tuple[Any, ...] = ()) -> int:
    with db.connection() as conn:
        return int(conn.scalar(sql, params))
