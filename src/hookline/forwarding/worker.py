"""A forwarding dispatcher in a process of its own: `python -m hookline.forwarding.worker`.

For PostgreSQL scale-out (run several; they share the queue through SKIP LOCKED claims), or to give
sending a CPU of its own. Run `serve` with HOOKLINE_FORWARDING_DISPATCHER=false next to it. Stops
gracefully on SIGTERM or SIGINT. The dispatcher runs as a loop of pipeline/loops.py's LoopGroup, like
`hookline worker`'s loops (folding it into `hookline worker` itself would change what that command runs).
"""

from __future__ import annotations

import asyncio
import signal

from hookline import log as logconf
from hookline.assembly import create_runtime
from hookline.config import load_settings
from hookline.forwarding.dispatcher import dispatcher_loop
from hookline.pipeline.loops import LoopGroup
from hookline.providers.registry import providers


async def _main() -> None:
    settings = load_settings()
    logconf.configure(settings.log_format, settings.log_level)
    runtime = create_runtime(settings, providers())
    group = LoopGroup(runtime, [dispatcher_loop])
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, group.stop_event.set)
    try:
        group.start(strict=True)
        await group.wait()
        for task in group.tasks:
            task.result()  # a dispatcher that failed fails the process, as before
    finally:
        runtime.db.close()


def main() -> None:
    try:
        import uvloop

        uvloop.run(_main())
    except ImportError:
        asyncio.run(_main())


if __name__ == "__main__":
    main()
