"""The `hookline demo` command (the work is in demo.py, imported when it runs)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from hookline.clitools import fail
from hookline.testing.aircall.simulator.defaults import DEFAULT_AGENTS, DEFAULT_CALLS_PER_MINUTE, DEFAULT_SPEED


def demo(
    port: int = typer.Option(8080, min=1, max=65535, envvar="HOOKLINE_DEMO_PORT", help="Port of hookline"),
    aircall_port: int = typer.Option(
        9000, min=1, max=65535, envvar="HOOKLINE_DEMO_AIRCALL_PORT", help="Port of the fake Aircall"
    ),
    data_dir: Path = typer.Option(
        Path("data/demo"), envvar="HOOKLINE_DEMO_DIR",
        help="The demo's directory: its SQLite database (emptied at start), admin token, recordings, hookline's log",
    ),
    database_url: str | None = typer.Option(
        None, help="Use this database instead of SQLite in the demo's directory (e.g. a PostgreSQL schema)"
    ),
    speed: float = typer.Option(DEFAULT_SPEED, min=0.1, max=100, help="Compress the company's day this many times"),
    agents: int = typer.Option(DEFAULT_AGENTS, min=1, max=500, help="Agents in the call center"),
    calls_per_minute: float = typer.Option(
        DEFAULT_CALLS_PER_MINUTE, min=0, help="Calls per minute of the company's day (before --speed)"
    ),
    seed: int | None = typer.Option(None, help="Seed of the traffic [default: random]"),
    seconds: float | None = typer.Option(None, min=1, help="Stop after this many seconds [default: at Ctrl-C]"),
    outage_at: float | None = typer.Option(None, min=0, help="Drill: stop hookline this many seconds in"),
    outage_seconds: float = typer.Option(60.0, min=1, help="Drill: for this long"),
    watchdog_interval: float = typer.Option(
        2.0, min=0.5, help="Seconds between the watchdog's passes (HOOKLINE_AIRCALL_WATCHDOG_INTERVAL of hookline)"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout (messages on stderr)"),
) -> None:
    """Run a fake Aircall call center into a real hookline: dashboard URL and admin token printed, a live
    line of what flows; with --outage-at, a drill whose summary says whether every call arrived intact
    (exit 0 only when none is missing or wrong)."""
    if outage_at is not None:
        if seconds is None:
            raise typer.BadParameter("a drill needs --seconds (when to stop and compare)", param_hint="--outage-at")
        if outage_at + outage_seconds >= seconds:
            raise typer.BadParameter(
                f"the outage ({outage_at:g} s + {outage_seconds:g} s) must end before --seconds {seconds:g}",
                param_hint="--outage-at",
            )
    if port == aircall_port:
        raise typer.BadParameter("hookline and the fake Aircall need two ports", param_hint="--aircall-port")
    from hookline.testing.aircall.simulator.demo import DemoError, DemoOptions, print_summary, run_demo

    opts = DemoOptions(
        port=port, aircall_port=aircall_port, data_dir=data_dir, database_url=database_url, speed=speed,
        agents=agents, calls_per_minute=calls_per_minute, seed=seed, seconds=seconds, outage_at=outage_at,
        outage_seconds=outage_seconds, watchdog_interval=watchdog_interval, as_json=as_json,
    )
    try:
        summary = asyncio.run(run_demo(opts))
    except DemoError as exc:
        fail(str(exc))
    print_summary(summary, as_json)
    if summary["calls_missing"] or summary["calls_wrong"]:
        raise typer.Exit(1)
