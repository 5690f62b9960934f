"""Forwarding inside `hookline serve`: the dispatcher task (the fan-out hook on the group commit is
installed with every Runtime's committer: hookline/assembly.py)."""

from __future__ import annotations

import asyncio

from hookline.forwarding.dispatcher import run_dispatcher
from hookline.runtime import Runtime


class ForwardingService:
    """Install once per Runtime; `start()` and `await stop()` from the app's lifespan."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.runtime.settings.forwarding_dispatcher:
            self._task = asyncio.create_task(run_dispatcher(self.runtime, self._stop), name="forwarding-dispatcher")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
