"""`hookline aircall backfill`: read a time window from Aircall's API into the event log."""

from __future__ import annotations

import json
import math
import time

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from hookline.clitools import bad_input, console, err_console, time_option
from hookline.providers.aircall.cli_common import context, run, say, warn
from hookline.timeparse import iso


def backfill(
    account: str | None = typer.Option(None, "--account", help="Account name (optional when only one exists)"),
    since: str = typer.Option(..., "--since", help="Window start: ISO 8601 date-time or unix seconds"),
    until: str | None = typer.Option(None, "--until", help="Window end (default: now, or the interrupted run's end)"),
    resources: str | None = typer.Option(
        None, "--resources", help="Comma-separated: calls,users,contacts,numbers,teams,tags (default: all)"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON"),
) -> None:
    """Read calls, users and contacts created in a window (and all numbers, teams, tags) into the
    event log as *.synced events. Safe to run again; an interrupted run resumes."""
    from hookline.providers.aircall.backfill import Backfill, BackfillResult, DatabaseSink, parse_resources
    from hookline.providers.aircall.checkpoints import CheckpointStore

    start = time_option(since, "--since")
    end = time_option(until, "--until") if until is not None else None
    try:
        chosen = parse_resources(resources)
    except ValueError as exc:
        bad_input(str(exc))
    ctx = context()
    acc = ctx.account(account)
    from hookline import log as logconf

    logconf.configure(ctx.cfg.log_format, ctx.cfg.log_level)  # a refused record's line goes to stderr
    checkpoints = CheckpointStore(ctx.db)
    if end is None:
        # Without --until, an interrupted run of the same start resumes with its own end.
        end = checkpoints.unfinished_until(acc, start, chosen) or float(math.ceil(time.time()))
    if end <= start:
        bad_input("--until must be after --since")
    warn(f"backfill of account {acc}: {iso(start)} .. {iso(end)} ({', '.join(chosen)})")

    progress = Progress(
        TextColumn("{task.description:<9}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[fetched]} fetched"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {r: progress.add_task(r, total=1.0, fetched=0) for r in chosen}

    def report(resource: str, fetched: int, fraction: float | None) -> None:
        completed = min(1.0, fraction) if fraction is not None else None
        progress.update(tasks[resource], completed=completed, fetched=fetched)

    async def go() -> BackfillResult:
        async with ctx.client(acc) as client:
            job = Backfill(client, acc, DatabaseSink(ctx.db), checkpoints, progress=report)
            return await job.run(start, end, chosen)

    try:
        with progress:
            result = run(go())
    except KeyboardInterrupt:
        warn("interrupted: what was fetched is stored; run the same command again to resume")
        raise typer.Exit(130) from None

    if as_json:
        print(
            json.dumps(
                {
                    "account": acc,
                    "since": iso(start),
                    "until": iso(end),
                    "resources": [r.as_json() for r in result.resources],
                    "fetched": result.fetched,
                    "new": result.new,
                    "refused": result.refused,
                },
                indent=2,
            )
        )
        return
    table = Table("resource", "fetched", "new", "already known", "refused", "note")
    for r in result.resources:
        note = f"resumed from {iso(r.resumed_from)}" if r.resumed_from is not None else ""
        table.add_row(r.resource, str(r.fetched), str(r.new), str(r.known), str(r.refused), note)
    console.print(table)
    known = result.fetched - result.new - result.refused
    refused = f", {result.refused} refused (see the log)" if result.refused else ""
    say(f"backfill done: {result.fetched} fetched, {result.new} new, {known} already known{refused}")
