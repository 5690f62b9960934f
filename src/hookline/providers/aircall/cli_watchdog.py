"""`hookline aircall watchdog` and `hookline aircall incidents`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer

from hookline.clitools import bad_input
from hookline.providers.aircall.cli_common import context, run, say, warn
from hookline.timeparse import iso


def _short(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S") if ts is not None else ""


def watchdog(
    once: bool = typer.Option(False, "--once", help="One pass, then exit (for cron); default: run on an interval"),
    interval: float | None = typer.Option(
        None, "--interval", help="Seconds between passes [HOOKLINE_AIRCALL_WATCHDOG_INTERVAL, default 300]"
    ),
) -> None:
    """Re-enable the webhooks pointing here that Aircall deactivated, and backfill what they missed.

    `serve` runs the same watchdog in the background; this command is for cron or a separate process.
    Exits 1 when a pass had errors (with --once)."""
    from hookline.providers.aircall.backfill import DatabaseSink
    from hookline.providers.aircall.watchdog import PassReport, Watchdog

    ctx = context()
    every = interval if interval is not None else ctx.aircall.watchdog_interval
    if not once and every <= 0:
        bad_input("the interval must be positive (or use --once)")
    dog = Watchdog(
        ctx.db,
        ctx.accounts,
        DatabaseSink(ctx.db),
        api_url=ctx.aircall.api_url,
        public_url=ctx.cfg.public_url,
        margin=ctx.aircall.backfill_margin,
        max_lookback=ctx.aircall.backfill_max_lookback,
    )
    from hookline import log as logconf

    logconf.configure(ctx.cfg.log_format, ctx.cfg.log_level)  # structured lines on stderr
    if not once:
        say(f"watchdog running every {every:g}s (Ctrl-C to stop)")
        run(dog.run_forever(every))
        return

    report: PassReport = run(dog.run_pass())
    if report.skipped:
        say("another watchdog pass is running on this database: skipped")
        return
    for account, webhook_id in report.reenabled:
        say(f"re-enabled webhook {webhook_id} of account {account}")
    for b in report.backfills:
        say(f"backfilled account {b.account} {iso(b.since)} .. {iso(b.until)}: {b.fetched} fetched, {b.new} new"
            + (f", {b.refused} refused (see the log)" if b.refused else ""))
    for account, webhook_id in report.unregistered:
        warn(
            f"warning: webhook {webhook_id} of {account} points here but its token is not registered:"
            f" `hookline aircall webhooks import --account {account}`"
        )
    for error in report.errors:
        warn(f"error: {error}")
    say(
        f"watchdog: {report.accounts} account(s), {report.webhooks_here} webhook(s) pointing here, "
        f"{len(report.reenabled)} re-enabled, {len(report.errors)} error(s)"
    )
    if report.errors:
        raise typer.Exit(1)


def incidents(
    account: str | None = typer.Option(None, "--account", help="Only this account's incidents"),
    limit: int = typer.Option(50, "--limit", min=1, help="How many, newest first"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Webhooks the watchdog found deactivated, when they were re-enabled, and their backfills."""
    from hookline.providers.aircall.incidents import IncidentStore

    found = IncidentStore(context().db).recent(account, limit)
    if as_json:
        print(json.dumps([i.as_json() for i in found], indent=2))
        return
    for i in found:
        reenabled = f"re-enabled {_short(i.reenabled_at)}" if i.reenabled_at is not None else "NOT re-enabled"
        say(f"#{i.id} {i.account} webhook {i.webhook_id}: detected {_short(i.detected_at)}, {reenabled}")
        if i.backfill_since is not None:
            window = f"{_short(i.backfill_since)} .. {_short(i.backfill_until)} UTC"
            say(f"    backfill {window}: {i.backfill_status}, {i.backfill_new} new events")
        if i.error:
            say(f"    error: {i.error}")
    if not found:
        say("no incidents")
