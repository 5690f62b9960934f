"""Forwarding inside `hookline serve`: the fan-out hook on the group commit, and the dispatcher task."""

from __future__ import annotations

import asyncio

from hookline.forwarding.dispatcher import WAKE_KEY, run_dispatcher
from hookline.forwarding.fanout import FanOut
from hookline.runtime import Runtime


class ForwardingService:
    """Install once per Runtime; `start()` and `await stop()` from the app's lifespan."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.fanout = FanOut(self._wake)
        runtime.committer.in_transaction.append(self.fanout)
        runtime.committer.after_commit.append(self.fanout.after_commit)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _wake(self) -> None:
        wake = self.runtime.state.get(WAKE_KEY)
        if wake is not None:
            wake()

    def start(self) -> None:
        if self.runtime.settings.forwarding_dispatcher:
            self._task = asyncio.create_task(run_dispatcher(self.runtime, self._stop), name="forwarding-dispatcher")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
