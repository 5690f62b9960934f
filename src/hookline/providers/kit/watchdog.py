"""What every provider's watchdog shares: one pass at a time among the processes sharing a
PostgreSQL database, and the background loop that runs a pass every interval and survives a failed one.

The provider-specific steps (what to check, how to repair it, what to backfill) stay with each
provider: aircall/watchdog.py re-enables webhooks, calendly/watchdog.py recreates subscriptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from hookline.store.engine import Database


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
