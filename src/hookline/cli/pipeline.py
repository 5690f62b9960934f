"""`hookline worker`, `hookline jobs list|retry|stats` and `hookline rebuild`."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from hookline.clitools import (
    bad_input,
    check_provider_settings,
    console,
    fail,
    open_database,
    providers,
    settings,
)

if TYPE_CHECKING:
    from hookline.config import Settings
    from hookline.runtime import Runtime
    from hookline.store.engine import Database

jobs_app = typer.Typer(help="The pipeline's jobs: list them, retry parked ones.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("rebuild")(rebuild)
    app.add_typer(jobs_app, name="jobs")


def _runtime(cfg: Settings | None = None) -> Runtime:
    from hookline.assembly import create_runtime

    cfg = cfg or settings()
    open_database(cfg).close()  # schema current (applied on SQLite, checked on PostgreSQL)
    return create_runtime(cfg, providers())


def worker() -> None:
    """Run the pipeline's loops (the job worker, ...) until SIGTERM or Ctrl-C.

    `serve` runs them too unless started with --no-worker; on PostgreSQL any number of workers may
    share a database, on SQLite one per database file.
    """
    from hookline import log as logconf
    from hookline.pipeline.loops import LoopGroup, LoopUnavailable

    cfg = settings()
    check_provider_settings()
    logconf.configure(cfg.log_format, cfg.log_level)
    runtime = _runtime(cfg)

    async def main() -> str | None:
        group = LoopGroup(runtime)
        try:
            group.start(strict=True)
        except LoopUnavailable as exc:
            return str(exc)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, group.stop_event.set)
        console.print(f"worker running on {runtime.db.url.redacted()}", highlight=False)
        await group.stop_event.wait()
        # Finish the batch in hand; what is still running after the lease is handed back.
        await group.stop(timeout=cfg.worker_lease_seconds)
        return None

    try:
        import uvloop

        problem = uvloop.run(main())
    finally:
        runtime.db.close()
    if problem:
        fail(problem)
    console.print("worker stopped")


def _say_what_cannot_be_replayed(db: Database) -> None:
    """With retention on, the log no longer holds all history: say from when a rebuild replays."""
    from hookline.retention.policies import purged_before
    from hookline.store.events import oldest_received
    from hookline.timeparse import iso

    with db.connection() as conn:
        purged = purged_before(conn)
        oldest = oldest_received(conn)
    if purged is None:
        return
    kept = "no event" if oldest is None else f"the oldest event kept was received {iso(float(oldest))}"
    console.print(
        f"[yellow]warning:[/] retention deleted events received up to {iso(purged)} ({kept}); what they"
        " carried and no later event repeats is not replayed. To replay it, import their export first:"
        " `hookline rebuild --from-export DIR` (or `hookline import events DIR`).",
        highlight=False,
    )


def rebuild(
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation"),
    from_export: Path | None = typer.Option(
        None, "--from-export", help="First import the events of this export directory (`hookline export events`)"
    ),
) -> None:
    """Recompute every projection from the event log (empties the tables, then replays the log)."""
    from hookline.pipeline.handlers import registry
    from hookline.pipeline.rebuild import count_events
    from hookline.pipeline.rebuild import rebuild as run_rebuild

    runtime = _runtime()
    handlers = registry(runtime)
    tables = [t for hs in handlers.values() for h in hs for t in h.tables]
    if not tables:
        fail("no provider has projections to rebuild")
    if from_export is not None:
        from hookline.retention.cli import import_or_fail

        import_or_fail(runtime.db, from_export)
    _say_what_cannot_be_replayed(runtime.db)
    if not yes and not typer.confirm(f"Empty and recompute {len(tables)} tables?", default=True):
        raise typer.Exit(1)
    total = count_events(runtime.db, handlers)
    started = time.perf_counter()
    with Progress(
        TextColumn("replaying the log"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} events/s"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("rebuild", total=total, rate="-")

        def advance(n: int) -> None:
            done = progress.tasks[0].completed + n
            rate = done / max(time.perf_counter() - started, 1e-6)
            progress.update(task, advance=n, total=max(total, int(done)), rate=f"{rate:,.0f}")

        result = run_rebuild(runtime.db, handlers, progress=advance)
    runtime.db.close()
    elapsed = time.perf_counter() - started
    console.print(f"rebuilt {len(tables)} tables from {result.events} events in {elapsed:.1f}s", highlight=False)
    if result.failed:
        for event_id, error in result.failed[:10]:
            console.print(f"  event {event_id}: {error}", highlight=False)
        fail(f"{len(result.failed)} events could not be applied (their jobs: `hookline jobs list --parked`)")


@jobs_app.command("list")
def jobs_list(
    parked: bool = typer.Option(False, "--parked", help="Only parked jobs (out of retries)"),
    state: str | None = typer.Option(None, "--state", help="queued, running or parked"),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="Most jobs to show"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Jobs waiting, running or parked, newest first."""
    from hookline.pipeline import jobs

    if parked:
        if state not in (None, "parked"):
            bad_input("--parked and --state go one way or the other, not both")
        state = "parked"
    if state is not None and state not in jobs.STATES:
        bad_input(f"--state must be one of {', '.join(jobs.STATES)}")
    db = open_database()
    with db.connection() as conn:
        rows = jobs.list_jobs(conn, state, limit)
    db.close()
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    now = time.time()
    table = Table("job", "event", "provider", "state", "attempts", "due / lease", "error")
    for r in rows:
        when = r["run_at"] - now
        due = f"in {when:.0f}s" if when > 0 else f"{-when:.0f}s ago"
        table.add_row(
            str(r["id"]), str(r["event_id"]), r["provider"], r["state"], str(r["attempts"]),
            due if r["state"] != "parked" else "", (r["last_error"] or "")[:80],
        )
    console.print(table)
    if not rows:
        console.print("no parked jobs" if state == "parked" else "no jobs")


@jobs_app.command("retry")
def jobs_retry(
    ids: list[int] = typer.Argument(None, help="Parked job ids to retry"),
    all_parked: bool = typer.Option(False, "--all-parked", help="Retry every parked job"),
) -> None:
    """Queue parked jobs again, with a fresh attempt budget."""
    from hookline.pipeline import jobs

    if bool(ids) == all_parked:
        bad_input("give job ids, or --all-parked")
    db = open_database()
    with db.connection() as conn:
        if ids:
            missing = [i for i in ids if (j := jobs.get_job(conn, i)) is None or j["state"] != "parked"]
            if missing:
                db.close()
                bad_input(f"not parked jobs: {', '.join(map(str, missing))} (see `hookline jobs list --parked`)")
        n = jobs.retry(conn, ids or None)
        if n:
            jobs.notify(conn)
    db.close()
    console.print(f"{n} jobs queued again", highlight=False)


@jobs_app.command("stats")
def jobs_stats(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """Events received and processed, jobs pending and parked, processing lag."""
    from hookline.pipeline import jobs

    db = open_database()
    with db.connection() as conn:
        s = jobs.stats(conn)
    db.close()
    out = {
        "received": s.received,
        "processed": s.processed,
        "pending": s.pending,
        "running": s.running,
        "parked": s.parked,
        "lag_seconds": round(s.lag_seconds(), 3),
    }
    if as_json:
        print(json.dumps(out))
        return
    for key, value in out.items():
        console.print(f"{key:>12}  {value}", highlight=False)
