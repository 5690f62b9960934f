"""The change feed: "projections of these providers (and accounts) changed", for live views (the dashboard's SSE).

Workers announce each committed batch. In-process (SQLite, or a worker inside `serve`) the feed
hands the message to local subscribers at once; on PostgreSQL the worker NOTIFYs the changes channel
instead and every `serve` process LISTENs on it, so a view served by one process sees what a worker
in another process committed. The signal follows the projection commit (not the event commit), so
a page that re-reads on a message always finds the new state.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable
from typing import Any

import msgspec
import structlog

from hookline.pipeline.wakeup import listen, sleep_until
from hookline.store.engine import Connection

log = structlog.get_logger(__name__)

CHANNEL = "hookline_changes"
_SUBSCRIBER_BACKLOG = 64
# NOTIFY payloads stop at 8000 bytes; 50 names of at most 64 characters stay far below. A batch of more
# accounts says nothing about them: a stream filtered by account then re-reads, as for "everything".
MAX_ACCOUNTS = 50


class Subscription:
    """One listener's queue of change messages; `None` means the feed closed."""

    def __init__(self, feed: ChangeFeed, loop: asyncio.AbstractEventLoop) -> None:
        self.feed = feed
        self.loop = loop
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(_SUBSCRIBER_BACKLOG)

    def _put(self, message: dict[str, Any] | None) -> None:
        # A slow reader loses old messages, never the feed: each message only says "re-read".
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(message)

    async def get(self, timeout: float) -> dict[str, Any] | bool | None:
        """The next message, None when the feed closed, False after `timeout` seconds of quiet."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return False

    def close(self) -> None:
        self.feed.unsubscribe(self)


class ChangeFeed:
    """Thread-safe publish, asyncio subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[Subscription] = set()
        self.closed = False

    def subscribe(self) -> Subscription:
        sub = Subscription(self, asyncio.get_running_loop())
        with self._lock:
            self._subscribers.add(sub)
        if self.closed:
            sub._put(None)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, message: dict[str, Any] | None) -> None:
        """From any thread."""
        with self._lock:
            subs = list(self._subscribers)
        for sub in subs:
            with contextlib.suppress(RuntimeError):  # that loop is closed
                sub.loop.call_soon_threadsafe(sub._put, message)

    def close(self) -> None:
        """Ends every subscriber's stream (at shutdown, so open SSE responses finish)."""
        self.closed = True
        self.publish(None)

    def committed(self, conn: Connection, providers: Iterable[str], accounts: Iterable[str] = ()) -> None:
        """A worker committed projections of `providers` for `accounts` (call after COMMIT, on the worker's
        connection). Without `accounts`, or with too many for a NOTIFY payload, every account may have changed."""
        message: dict[str, Any] = {"providers": sorted(set(providers))}
        named = sorted(set(accounts))
        if 0 < len(named) <= MAX_ACCOUNTS:
            message["accounts"] = named
        if conn.notifies:
            # Every serve process (this one included) hears it through its listener (PostgreSQL).
            conn.notify(CHANNEL, msgspec.json.encode(message).decode())
        else:
            self.publish(message)


def decode(payload: str) -> dict[str, Any]:
    try:
        message = msgspec.json.decode(payload)
    except msgspec.DecodeError:
        return {"providers": []}
    return message if isinstance(message, dict) else {"providers": []}


async def listen_postgres(url: str, feed: ChangeFeed, stop: asyncio.Event, retry_seconds: float = 1.0) -> None:
    """Publish each notification of the changes channel locally (a reconnect says "re-read everything")."""

    def publish(payload: str | None) -> None:
        feed.publish({"providers": []} if payload is None else decode(payload))

    await listen(url, CHANNEL, publish, stop, retry_seconds)


async def poll_sqlite(db_path: str, feed: ChangeFeed, stop: asyncio.Event, interval: float = 0.5) -> None:
    """SQLite with the worker in another process: PRAGMA data_version moves when another connection
    commits, so a cheap poll tells this process that something changed."""
    from pathlib import Path

    from hookline.store.engine import connect_sqlite, data_version

    conn = await asyncio.to_thread(connect_sqlite, Path(db_path))
    try:
        last = None
        while not stop.is_set():
            version = await asyncio.to_thread(data_version, conn)
            if last is not None and version != last:
                feed.publish({"providers": []})
            last = version
            await sleep_until(stop, interval)
    finally:
        await asyncio.to_thread(conn.close)

