"""Pipeline fixtures: a database with the test plugin's schema, events appended the way ingest does."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hookline.assembly import create_runtime, migration_sources
from hookline.config import load_settings
from hookline.pipeline import jobs
from hookline.providers.registry import providers
from hookline.runtime import Runtime
from hookline.store import events as event_log
from hookline.store import migrations
from hookline.store.engine import Database
from hookline.types import IncomingEvent
from tests.pipeline import plugin


@pytest.fixture
def pdb(database_url: str) -> Iterator[Database]:
    """A migrated database that also holds the test plugin's tables."""
    database = Database(database_url)
    migrations.upgrade(database, migration_sources((*providers(), plugin.provider)))
    try:
        yield database
    finally:
        database.close()


def append(db: Database, bodies: list[dict[str, Any]], provider: str = plugin.NAME) -> list[int]:
    """Store events the way the committer does (jobs enqueued in the same transaction); returns ids."""
    now = time.time()
    events = [
        IncomingEvent(
            provider=provider,
            account="acme",
            event=str(b.get("event", "test.event")),
            dedup_key=str(b.get("key") or uuid.uuid4().hex),
            body=json.dumps(b).encode(),
            received_at=now,
            occurred_at=b.get("timestamp"),
        )
        for b in bodies
    ]
    conn = db.connect()
    try:
        results = event_log.append_batch(conn, events, [jobs.enqueue_hook()])
    finally:
        conn.close()
    return [r.id for r in results]


def runtime_for(database_url: str, **overrides: Any) -> Runtime:
    return create_runtime(load_settings(database_url=database_url, **overrides), providers())


def effects(db: Database) -> dict[int, int]:
    with db.connection() as conn:
        return {int(e): int(n) for e, n in conn.fetchall("SELECT event_id, applied FROM test_effects")}


def job_rows(db: Database, state: str | None = None) -> list[dict[str, Any]]:
    with db.connection() as conn:
        return jobs.list_jobs(conn, state, 10_000)


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    """Environment for subprocesses that load the test plugin through its entry point."""
    env = plugin.install(tmp_path / "site")
    env[plugin.RUNS_ENV] = str(tmp_path / "runs.log")
    return env
