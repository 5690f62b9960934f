"""The long-running loops of the pipeline, run by `serve` (in-process) and by `hookline worker`.

A loop factory gets the Runtime and returns a coroutine function that runs until its `stop` event is
set (finishing or handing back the work it holds), or raises LoopUnavailable when it cannot run in
this process. The core's loops (the job worker below, the automations executor, retention) are listed
in `Runtime.loops` by hookline/assembly.py; providers add theirs through `Provider.loops(runtime)`
(e.g. Aircall's recordings archiver).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from hookline.runtime import Runtime
from hookline.store.filelock import FileLock

log = structlog.get_logger(__name__)

Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
LoopFactory = Callable[[Runtime], Loop]


class LoopUnavailable(Exception):
    """This loop cannot run in this process; the message says why."""


def worker_loop(runtime: Runtime) -> Loop:
    """The job worker. On SQLite only one per database file (one writer is the point of SQLite)."""
    from hookline.pipeline.worker import Worker

    lock: FileLock | None = None
    path = runtime.db.single_writer_file
    if path is not None:
        lock = FileLock(f"{path}-worker.lock")
        if not lock.acquire():
            raise LoopUnavailable(
                f"another worker (pid {lock.holder()}) already processes {path};"
                " SQLite takes one worker per database file"
            )
    worker = Worker(runtime)

    async def run(stop: asyncio.Event) -> None:
        try:
            await worker.run(stop)
        finally:
            if lock is not None:
                lock.release()

    return run


def runtime_loops(runtime: Runtime) -> list[LoopFactory]:
    """The core's loops (Runtime.loops), then each provider's: what `hookline worker` runs."""
    return [*runtime.loops, *(f for p in runtime.providers for f in p.loops(runtime))]


class LoopGroup:
    """Starts the loops as tasks; `stop()` asks them to finish, then cancels the ones that do not."""

    def __init__(self, runtime: Runtime, factories: list[LoopFactory] | None = None) -> None:
        self.runtime = runtime
        if factories is None:
            factories = runtime_loops(runtime)
        self.factories = factories
        self.stop_event = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self, *, strict: bool = False) -> list[str]:
        """Start every loop that can run here; returns why the others cannot (raises if `strict`)."""
        skipped = []
        for factory in self.factories:
            try:
                loop = factory(self.runtime)
            except LoopUnavailable as exc:
                if strict:
                    self.stop_event.set()
                    raise
                log.warning("loop not started", loop=factory.__name__, reason=str(exc))
                skipped.append(str(exc))
                continue
            self.tasks.append(asyncio.create_task(loop(self.stop_event), name=factory.__name__))
        return skipped

    async def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if not self.tasks:
            return
        _, pending = await asyncio.wait(self.tasks, timeout=timeout)
        for t in pending:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def wait(self) -> None:
        """Until every loop has ended (they end when stopped)."""
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
