"""A forwarding dispatcher in a process of its own: `python -m hookline.forwarding.worker`.

For PostgreSQL scale-out (run several; they share the queue through SKIP LOCKED claims), or to give
sending a CPU of its own. Run `serve` with HOOKLINE_FORWARDING_DISPATCHER=false next to it. Stops
gracefully on SIGTERM or SIGINT. (Meant to be folded into the generic `hookline worker`.)
"""

from __future__ import annotations

import asyncio
import signal

from hookline import log as logconf
from hookline.assembly import create_runtime
from hookline.config import load_settings
from hookline.forwarding.dispatcher import run_dispatcher
from hookline.providers.registry import providers


async def _main() -> None:
    settings = load_settings()
    logconf.configure(settings.log_format, settings.log_level)
    runtime = create_runtime(settings, providers())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await run_dispatcher(runtime, stop)
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
