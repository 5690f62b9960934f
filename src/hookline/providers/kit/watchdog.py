"""What every provider's watchdog shares: one pass at a time among the processes sharing a
PostgreSQL database, the background loop that runs a pass every interval and survives a failed one,
and how a pass goes over many accounts (`for_each`): a bounded number at once, their starts spread
over the interval with jitter, so 2,000 installed accounts are not all called at the top of it.

The provider-specific steps (what to check, how to repair it, what to backfill) stay with each
provider: aircall/watchdog.py re-enables webhooks, calendly/watchdog.py recreates subscriptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from hookline.store.engine import Database

T = TypeVar("T")

CONCURRENCY = 16  # accounts checked at once; each account's client keeps its company's own rate limit
SPREAD = 0.8  # a pass's starts are spread over this fraction of the interval: it ends before the next one
SLOT = 0.25  # ... and over at most this many seconds per account: a few accounts are all checked within seconds


def exclusive(db: Database, lock_id: int) -> contextlib.AbstractContextManager[bool]:
    """True when this process may run the pass (Database.once_per_database): on PostgreSQL the holder of
    advisory lock `lock_id` (several `serve` may share the database; the others skip the round); on
    SQLite always, as there is exactly one `serve` per database file."""
    return db.once_per_database(lock_id)


async def run_every(
    interval: float,
    one_pass: Callable[[], Awaitable[object]],
    failed: Callable[[Exception], None],
    *,
    min_pause: float | None = None,
) -> None:
    """Run `one_pass` forever; an exception is handed to `failed` and the next pass comes as usual
    (the task must not die). The pause is `interval` after each pass or, with `min_pause`, what is
    left of `interval` since the pass started, at least `min_pause`."""
    while True:
        started = time.monotonic()
        try:
            await one_pass()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failed(exc)
        if min_pause is None:
            await asyncio.sleep(interval)
        else:
            await asyncio.sleep(max(interval - (time.monotonic() - started), min_pause))


def spread_window(interval: float, accounts: int) -> float:
    """Seconds over which a pass inside `serve` spreads the starts of `accounts` accounts."""
    return max(0.0, min(interval * SPREAD, accounts * SLOT))


async def for_each(
    items: Sequence[T],
    work: Callable[[T], Awaitable[None]],
    *,
    concurrency: int = CONCURRENCY,
    over: float = 0.0,
    jitter: Callable[[], float] = random.random,
) -> None:
    """`work(item)` for every item, at most `concurrency` at once. With `over` > 0, item i starts no
    earlier than (i + jitter()) / n * `over` seconds from now: one start per slot, a steady n / `over`
    a second rather than a burst at the top of the interval, and not at the same second every pass.
    `work` handles its own errors (one account's failure must not stop the others); one that escapes
    anyway stops further starts and is raised once the started ones have finished. Cancelling the
    pass cancels the started ones."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(max(1, concurrency))
    running: set[asyncio.Task[None]] = set()
    escaped: list[BaseException] = []
    started, n = loop.time(), len(items)

    async def one(item: T) -> None:
        try:
            await work(item)
        except Exception as exc:
            escaped.append(exc)
        finally:
            gate.release()

    try:
        for i, item in enumerate(items):
            if escaped:
                break
            if over > 0:
                delay = started + (i + jitter()) / n * over - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            await gate.acquire()  # a free place: never more than `concurrency` in flight
            task = loop.create_task(one(item))
            running.add(task)
            task.add_done_callback(running.discard)
        while running:
            await asyncio.wait(set(running))
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
    if escaped:
        raise escaped[0]
