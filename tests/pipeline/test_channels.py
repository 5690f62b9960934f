"""PostgreSQL's LISTEN/NOTIFY channels are the database's, not a schema's: installations in schemas of
one database (and the test suite's parallel servers) must not wake each other or re-read each other's
pages. Connection.notify sends to the channel scoped to its schema, and pipeline.wakeup.listen listens
on the same."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hookline.pipeline import jobs
from hookline.pipeline.wakeup import listen
from hookline.store import events as event_log
from hookline.store.engine import Database
from hookline.types import IncomingEvent
from tests.support import drop_pg_schema, new_pg_schema, on_engine


def heard_in_two_schemas(database_url: str, channel: str, act: Callable[[], None]) -> dict[str, list[str | None]]:
    """The payloads that listeners on `channel` in the test's schema ("own") and in a second schema of
    the same database ("other") hear while `act` runs (in a thread). Each listener first reports None
    (its connect); once "own" has heard `act`'s notification, the other gets 0.3 s more to hear it too,
    were it sent there."""
    other, other_url = new_pg_schema()  # a second installation in the same database
    heard: dict[str, list[str | None]] = {"own": [], "other": []}

    async def main() -> None:
        stop = asyncio.Event()
        listeners = [asyncio.create_task(listen(url, channel, heard[name].append, stop))
                     for name, url in (("own", database_url), ("other", other_url))]
        while len(heard["own"]) < 1 or len(heard["other"]) < 1:
            await asyncio.sleep(0.02)
        await asyncio.to_thread(act)
        for _ in range(200):
            if len(heard["own"]) > 1:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        stop.set()
        for task in listeners:
            task.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)

    try:
        asyncio.run(main())
    finally:
        drop_pg_schema(other)
    return heard


@on_engine("postgresql")
def test_a_notify_is_heard_in_its_own_schema_only(db: Database, database_url: str) -> None:
    def notify() -> None:
        with db.connection() as conn, conn.transaction():
            conn.notify("hookline_changes", "ours")

    heard = heard_in_two_schemas(database_url, "hookline_changes", notify)
    assert heard["own"] == [None, "ours"]
    assert heard["other"] == [None]


@on_engine("postgresql")
def test_appended_events_wake_the_workers_of_their_schema(db: Database, database_url: str) -> None:
    """The jobs' NOTIFY (sent in the event log's insert statement) has the same scope."""

    def append() -> None:
        conn = db.connect()
        try:
            event_log.append_batch(conn, [IncomingEvent("aircall", "acme", "call.created", "k1", b'{"data": {}}', 0.0)],
                                   [jobs.enqueue_hook()])
        finally:
            conn.close()

    heard = heard_in_two_schemas(database_url, jobs.CHANNEL, append)
    assert {name: len(payloads) for name, payloads in heard.items()} == {"own": 2, "other": 1}
