"""First backfills after OAuth installs, a few at a time.

An install answers the admin at once and imports recent history in the background. When hundreds
of customers install within minutes (a partner's launch), each backfill must not start its own burst
of API calls and database writes: they queue here, at most `limit` running in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookline.runtime import Runtime

MAX_RUNNING = 4  # first backfills running at once in one `serve`; the others wait their turn
_STATE_KEY = "kit.first_backfills"


class BackfillQueue:
    def __init__(self, limit: int = MAX_RUNNING, tasks: list[asyncio.Task[Any]] | None = None) -> None:
        self.limit = max(1, limit)
        self._gate: asyncio.Semaphore | None = None  # made in the running loop, on first use
        # Started and not finished (waiting or running); `serve` cancels them at shutdown (runtime.tasks).
        self.tasks: list[asyncio.Task[Any]] = [] if tasks is None else tasks

    def start(self, name: str, work: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """`work` in the background once one of the `limit` places is free. `work` handles its own
        errors (a failed first backfill leaves the install standing)."""
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.limit)
        gate = self._gate

        async def run() -> None:
            async with gate:
                await work()

        task = asyncio.create_task(run(), name=name)
        self.tasks.append(task)
        task.add_done_callback(self._finished)  # 2,000 installs leave no 2,000 finished tasks behind
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        with contextlib.suppress(ValueError):  # already taken out (serve's shutdown)
            self.tasks.remove(task)


def first_backfills(runtime: Runtime) -> BackfillQueue:
    """The process's one queue (every provider's installs share its places)."""
    queue = runtime.state.get(_STATE_KEY)
    if not isinstance(queue, BackfillQueue):
        queue = runtime.state[_STATE_KEY] = BackfillQueue(tasks=runtime.tasks)
    return queue
