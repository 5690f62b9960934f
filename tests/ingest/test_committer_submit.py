"""Committer.submit: other writes ride in the writer's transaction, each under its own savepoint."""

from __future__ import annotations

import asyncio

import pytest

from hookline.store.committer import CommitFailed, Committer
from hookline.store.engine import Connection, Database
from hookline.types import IncomingEvent


def _event(key: str) -> IncomingEvent:
    return IncomingEvent("test", "acme", "thing.happened", key, b"{}", 1.0)


def _put(key: str, value: str):
    def write(conn: Connection) -> str:
        conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)", (key, value))
        return value

    return write


def _boom(conn: Connection) -> None:
    conn.execute("INSERT INTO settings (key, value) VALUES ('half', 'done')")
    raise RuntimeError("boom")


def test_submitted_writes_commit_with_events_and_fail_alone(db: Database) -> None:
    committer = Committer(db)
    committer.start()
    try:
        alone = committer.submit(_put("a", "1"))
        assert alone.result(10) == "1"  # no events waiting: a transaction of its own

        async def with_an_event() -> tuple[object, list[object]]:
            ok = asyncio.wrap_future(committer.submit(_put("b", "2")))
            bad = asyncio.wrap_future(committer.submit(_boom))
            appended = await committer.append(_event("k1"))
            return appended, await asyncio.gather(ok, bad, return_exceptions=True)

        appended, (ok, bad) = asyncio.run(with_an_event())
        assert ok == "2" and isinstance(bad, RuntimeError) and not appended.duplicate
    finally:
        committer.stop()
    with db.connection() as conn:
        rows = dict(conn.fetchall("SELECT key, value FROM settings"))
        assert rows == {"a": "1", "b": "2"}  # the failing write left nothing behind
        assert conn.scalar("SELECT count(*) FROM events") == 1
    late = committer.submit(_put("c", "3"))
    with pytest.raises(CommitFailed):
        late.result(1)

