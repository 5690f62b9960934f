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


@on_engine("postgresql")
def test_a_notify_is_heard_in_its_own_schema_only(db: Database, database_url: str) -> None:
    other, other_url = new_pg_schema()  # a second installation in the same database
    heard: dict[str, list[str | None]] = {"own": [], "other": []}

    async def main() -> None:
        stop = asyncio.Event()
        listeners = [asyncio.create_task(listen(url, "hookline_changes", heard[name].append, stop))
                     for name, url in (("own", database_url), ("other", other_url))]
        while len(heard["own"]) < 1 or len(heard["other"]) < 1:  # each (re)connect reports None first
            await asyncio.sleep(0.02)

        def notify() -> None:
            with db.connection() as conn, conn.transaction():
                conn.notify("hookline_changes", "ours")

        await asyncio.to_thread(notify)
        for _ in range(200):
            if "ours" in heard["own"]:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # time enough for the other schema's listener to hear it, were it sent there
        stop.set()
        for task in listeners:
            task.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)

    try:
        asyncio.run(main())
    finally:
        drop_pg_schema(other)
    assert heard["own"] == [None, "ours"]
    assert heard["other"] == [None]


@on_engine("postgresql")
def test_appended_events_wake_the_workers_of_their_schema(db: Database, database_url: str) -> None:
    """The jobs' NOTIFY (sent in the event log's insert statement) has the same scope."""
    other, other_url = new_pg_schema()
    woken: dict[str, int] = {"own": 0, "other": 0}

    def count(name: str) -> Callable[[str | None], None]:
        return lambda _payload: woken.__setitem__(name, woken[name] + 1)

    async def main() -> None:
        stop = asyncio.Event()
        listeners = [asyncio.create_task(listen(url, jobs.CHANNEL, count(name), stop))
                     for name, url in (("own", database_url), ("other", other_url))]
        while woken["own"] < 1 or woken["other"] < 1:
            await asyncio.sleep(0.02)

        def append() -> None:
            conn = db.connect()
            try:
                event_log.append_batch(conn, [IncomingEvent("aircall", "acme", "call.created", "k1", b'{"data": {}}',
                                                            0.0)], [jobs.enqueue_hook()])
            finally:
                conn.close()

        await asyncio.to_thread(append)
        for _ in range(200):
            if woken["own"] >= 2:
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
    assert woken == {"own": 2, "other": 1}
