"""`hookline dispatcher`: the forwarding dispatcher in a process of its own.

For PostgreSQL scale-out (run several; they share the queue through SKIP LOCKED claims), or to give
sending a CPU of its own. Run `serve` with HOOKLINE_FORWARDING_DISPATCHER=false next to it. Stops
gracefully on SIGTERM or SIGINT. The dispatcher runs as the one loop of a pipeline/loops.py LoopGroup,
as it does in `serve`'s group (folding it into `hookline worker` itself would change what that command
runs).
"""

from __future__ import annotations

import asyncio
import signal

import typer

from hookline.clitools import open_database, providers, settings


def register(app: typer.Typer) -> None:
    app.command("dispatcher")(dispatcher)


def dispatcher() -> None:
    """Run the forwarding dispatcher in this process until SIGTERM or Ctrl-C (with
    HOOKLINE_FORWARDING_DISPATCHER=false for `serve`)."""
    from hookline import log as logconf

    cfg = settings()
    open_database(cfg).close()  # reachable, schema current: a message and exit 1 otherwise
    logconf.configure(cfg.log_format, cfg.log_level)

    async def main() -> None:
        from hookline.assembly import create_runtime
        from hookline.forwarding.dispatcher import dispatcher_loop
        from hookline.pipeline.loops import LoopGroup

        runtime = create_runtime(cfg, providers())
        group = LoopGroup(runtime, [dispatcher_loop])
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, group.stop_event.set)
        try:
            group.start(strict=True)
            await group.wait()
            for task in group.tasks:
                task.result()  # a dispatcher that failed fails the process
        finally:
            runtime.db.close()

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
