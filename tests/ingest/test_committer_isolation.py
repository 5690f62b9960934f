"""No poison batch: an event the log cannot hold is refused alone, the rest of its batch commits.

The guilty events here get past the receivers' edge checks on purpose (they are handed to the
committer directly), so the committer's own isolation is what is tested.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Mapping

import httpx
import psycopg
import pytest

from hookline.assembly import create_runtime, log_hooks
from hookline.config import load_settings
from hookline.ingest.endpoint import WebhookEndpoint
from hookline.provider import Reply, WebhookReceiver
from hookline.providers.registry import providers
from hookline.store.committer import CommitFailed, Committer, EventRefused
from hookline.store.engine import Connection, Database
from hookline.types import AppendResult, IncomingEvent


def _event(key: str, name: str = "thing.happened") -> IncomingEvent:
    return IncomingEvent("test", "acme", name, key, b"{}", 1.0, resource="thing", resource_id=key)


def _poison_hook(conn: Connection, events: list[IncomingEvent], _results: list[AppendResult]) -> None:
    """A hook that cannot handle one kind of event (as fan-out or job enqueue might fail on a value)."""
    if any(e.event == "poison.hook" for e in events):
        raise ValueError("this hook cannot handle poison.hook")


async def _one_batch(committer: Committer, events: list[IncomingEvent]) -> list[object]:
    """Queue every event before the writer starts, so that they are all in its first batch."""
    tasks = [asyncio.ensure_future(committer.append(e)) for e in events]
    await asyncio.sleep(0.05)
    committer.start()
    return list(await asyncio.gather(*tasks, return_exceptions=True))


def _guilty(engine: str) -> list[IncomingEvent]:
    bad = [
        _event("g-surrogate", "bad\ud800event"),  # cannot be encoded to UTF-8: both engines refuse it
        _event("g-hook", "poison.hook"),  # refused by an in-transaction hook
    ]
    if engine == "postgresql":
        bad += [
            _event("g-nul", "bad\x00event"),  # PostgreSQL text cannot hold NUL
            _event("g-huge", "x" * 900_000),  # too big for the events_event index
        ]
    return bad


def test_a_guilty_event_is_refused_alone_and_the_batch_commits(db: Database, engine: str) -> None:
    committer = Committer(db)
    committer.in_transaction.extend([*log_hooks(), _poison_hook])
    guilty = _guilty(engine)
    valid = [_event(f"ok-{i}") for i in range(40)]
    mixed = valid[:13] + guilty[:1] + valid[13:27] + guilty[1:] + valid[27:]
    try:
        answers = asyncio.run(_one_batch(committer, mixed))
    finally:
        committer.stop()
    by_key = dict(zip((e.dedup_key for e in mixed), answers, strict=True))
    for e in guilty:
        assert isinstance(by_key[e.dedup_key], EventRefused), (e.dedup_key, by_key[e.dedup_key])
    for e in valid:
        assert isinstance(by_key[e.dedup_key], AppendResult), (e.dedup_key, by_key[e.dedup_key])
    with db.connection() as conn:
        stored = sorted(r[0] for r in conn.fetchall("SELECT dedup_key FROM events"))
        jobs = conn.scalar("SELECT count(*) FROM jobs")
    assert stored == sorted(e.dedup_key for e in valid)
    assert jobs == len(valid)  # the hooks' writes committed with their events, none for the guilty


def test_a_lone_guilty_event_is_refused_and_the_writer_goes_on(db: Database) -> None:
    committer = Committer(db)
    committer.start()
    try:

        async def run() -> tuple[object, AppendResult]:
            try:
                await committer.append(_event("g", "bad\ud800"))
            except EventRefused as exc:
                refused: object = exc
            else:
                refused = None
            return refused, await committer.append(_event("after"))

        refused, after = asyncio.run(run())
    finally:
        committer.stop()
    assert isinstance(refused, EventRefused) and refused.error == "UnicodeEncodeError"
    assert not after.duplicate


def test_a_lost_database_fails_the_whole_batch(db: Database, engine: str) -> None:
    """An error of the database (not of a value) is answered 503 for all: nothing is blamed on an event."""
    lost = psycopg.OperationalError if engine == "postgresql" else sqlite3.OperationalError

    def database_gone(_conn: Connection, events: list[IncomingEvent], _r: list[AppendResult]) -> None:
        if any(e.event == "lose.database" for e in events):
            raise lost("server closed the connection unexpectedly")

    committer = Committer(db)
    committer.in_transaction.append(database_gone)
    batch = [_event(f"ok-{i}") for i in range(10)] + [_event("x", "lose.database")]
    try:
        answers = asyncio.run(_one_batch(committer, batch))
    finally:
        committer.stop()
    assert all(type(a) is CommitFailed for a in answers), answers
    with db.connection() as conn:
        assert conn.scalar("SELECT count(*) FROM events") == 0


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_a_terminated_postgresql_connection_fails_the_batch_then_heals(db: Database) -> None:
    committer = Committer(db)
    committer.start()
    try:

        async def run() -> tuple[list[object], AppendResult]:
            await committer.append(_event("first"))
            assert committer._conn is not None
            pid = committer._conn.raw.info.backend_pid
            with db.connection() as conn:
                conn.execute("SELECT pg_terminate_backend(?)", (pid,))
            answers = await asyncio.gather(*(committer.append(_event(f"k{i}")) for i in range(5)),
                                           return_exceptions=True)
            return list(answers), await committer.append(_event("healed"))

        answers, healed = asyncio.run(run())
    finally:
        committer.stop()
    # The batch that met the dead connection fails whole (503, not blamed on an event); a later batch
    # (the writer reconnects) may already have committed the rest.
    assert type(answers[0]) is CommitFailed, answers
    assert all(type(a) is CommitFailed or isinstance(a, AppendResult) for a in answers), answers
    assert not healed.duplicate
    committed = [f"k{i}" for i, a in enumerate(answers) if isinstance(a, AppendResult)]
    with db.connection() as conn:
        stored = sorted(r[0] for r in conn.fetchall("SELECT dedup_key FROM events"))
    assert stored == sorted(["first", "healed", *committed])


class _TestReceiver(WebhookReceiver):
    """A receiver for tests only: `{"event": ..., "key": ...}`, no authentication."""

    provider = "test"
    path = "/test/webhook"

    async def parse(self, headers: Mapping[str, str], body: bytes, received_at: float) -> IncomingEvent | Reply:
        doc = json.loads(body)
        return IncomingEvent("test", "acme", doc["event"], doc["key"], body, received_at)


def test_the_endpoint_answers_the_guilty_request_400_and_the_others_200(database_url: str, db: Database) -> None:
    """Through the real endpoint: a request whose event an in-transaction hook cannot take (past the
    edge checks) gets 400 unstorable, counted; every request committed with it gets its 200."""
    runtime = create_runtime(load_settings(database_url=database_url), providers())
    runtime.committer.in_transaction.append(_poison_hook)
    app = WebhookEndpoint(_TestReceiver(), runtime)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            bodies = [{"event": "thing.happened", "key": f"ok-{i}"} for i in range(20)]
            bodies.insert(7, {"event": "poison.hook", "key": "guilty"})
            tasks = [asyncio.ensure_future(c.post("/test/webhook", json=b)) for b in bodies]
            await asyncio.sleep(0.2)  # all waiting in the committer's queue: one batch
            runtime.committer.start()
            return list(await asyncio.gather(*tasks))

    try:
        answers = asyncio.run(run())
    finally:
        runtime.committer.stop()
        runtime.db.close()
    guilty = answers.pop(7)
    assert guilty.status_code == 400 and guilty.json()["error"] == "unstorable", guilty.text
    assert "ValueError" in guilty.json()["message"]
    assert [r.status_code for r in answers] == [200] * 20
    refused = runtime.metrics.rejected.labels(provider="test", reason="unstorable")._value.get()
    assert refused == 1
    with db.connection() as conn:
        assert conn.scalar("SELECT count(*) FROM events") == 20
        assert conn.scalar("SELECT count(*) FROM jobs") == 20
