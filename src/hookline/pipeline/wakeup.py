"""Wake-ups, so that new work starts without polling delay.

In-process, the committer rings a Doorbell (thread-safe) for every batch that made jobs. Across
processes on PostgreSQL, the enqueue statement NOTIFYs the jobs channel and each worker LISTENs on a
connection of its own. A slow poll stays underneath both: for retries coming due, expired leases,
and a notification lost while reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog

from hookline.pipeline.jobs import CHANNEL
from hookline.store.engine import channel_scope_statement, listen_statement

log = structlog.get_logger(__name__)


class Doorbell:
    """An asyncio.Event that any thread may set."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def bind(self) -> None:
        """Attach to the running event loop (the one whose tasks wait on this bell)."""
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def ring(self) -> None:
        loop, event = self._loop, self._event
        if loop is None or event is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(event.set)

    async def wait(self, stop: asyncio.Event, timeout: float) -> None:
        """Until rung, `stop` is set, or `timeout` passes; then re-arm."""
        event = self._event
        if event is None or stop.is_set():
            return
        if not event.is_set():
            waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(stop.wait())]
            try:
                await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
        event.clear()


async def listen(
    url: str, channel: str, on_notify: Callable[[str | None], None], stop: asyncio.Event, retry_seconds: float = 1.0
) -> None:
    """LISTEN on a PostgreSQL channel until `stop`, reconnecting as needed: `on_notify(payload)` for
    each notification, and `on_notify(None)` after each (re)connect, for whatever was notified while
    nobody listened."""
    import psycopg

    while not stop.is_set():
        try:
            conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        except psycopg.Error as exc:
            log.warning("cannot listen", channel=channel, error=type(exc).__name__)
            await sleep_until(stop, retry_seconds)
            continue
        try:
            found = await (await conn.execute(channel_scope_statement())).fetchone()
            await conn.execute(listen_statement(channel, str(found[0]) if found else ""))
            on_notify(None)
            async for note in conn.notifies():
                on_notify(note.payload)
        except psycopg.Error as exc:
            log.warning("listener lost its connection", channel=channel, error=type(exc).__name__)
            await sleep_until(stop, retry_seconds)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()


async def listen_postgres(url: str, bell: Doorbell, stop: asyncio.Event, retry_seconds: float = 1.0) -> None:
    """Ring `bell` on every notification of the jobs channel (and on every reconnect)."""
    await listen(url, CHANNEL, lambda _payload: bell.ring(), stop, retry_seconds)


async def sleep_until(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less when `stop` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
