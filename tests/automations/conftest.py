"""Automations fixtures: Aircall events appended the way ingest does, rules applied in-process,
and the fake Aircall API (shared with the provider's tests)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from hookline.assembly import create_runtime
from hookline.automations import rules
from hookline.automations.actions import registry
from hookline.automations.rulefile import parse
from hookline.config import load_settings
from hookline.pipeline import jobs
from hookline.providers.registry import providers
from hookline.runtime import Runtime
from hookline.store import events as event_log
from hookline.store.engine import Database
from hookline.testing.aircall.samples import sample_event
from hookline.types import IncomingEvent
from tests.providers.aircall.conftest import acme, fake_aircall  # fixtures

__all__ = ["acme", "fake_aircall"]


def call_event(event: str = "call.created", *, key: str | None = None, **data: Any) -> dict[str, Any]:
    return sample_event(event, **data)


def append(db: Database, bodies: list[dict[str, Any]], *, keys: list[str] | None = None,
           account: str = "acme", timed: bool = True) -> list[int]:
    """Store Aircall events as the committer does (their jobs in the same transaction); returns ids.
    `timed=False`: stored as an event that does not say when it happened, received at its timestamp."""
    now = time.time()
    events = [
        IncomingEvent(
            provider="aircall", account=account, event=str(b["event"]),
            dedup_key=keys[i] if keys else uuid.uuid4().hex, body=json.dumps(b).encode(),
            received_at=now if timed else float(b["timestamp"]),
            occurred_at=float(b["timestamp"]) if timed else None,
        )
        for i, b in enumerate(bodies)
    ]
    conn = db.connect()
    try:
        results = event_log.append_batch(conn, events, [jobs.enqueue_hook()])
    finally:
        conn.close()
    return [r.id for r in results]


def apply_rules(db: Database, text: str, *, prune: bool = False) -> rules.ApplyResult:
    specs = parse(text, registry(providers()))
    with db.connection() as conn, conn.transaction():
        return rules.apply(conn, specs, prune=prune, write=True)


def runtime_for(database_url: str, **overrides: Any) -> Runtime:
    return create_runtime(load_settings(database_url=database_url, **overrides), providers())


def run_rows(db: Database, rule: str | None = None) -> list[dict[str, Any]]:
    from hookline.automations import runs

    with db.connection() as conn:
        return runs.list_runs(conn, rule=rule, limit=10_000)
