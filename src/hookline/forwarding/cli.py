"""`hookline destinations ...`, `hookline deliveries ...` and `hookline events replay`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from hookline.clitools import bad_input, console, open_database, settings, time_option

destinations_app = typer.Typer(
    help="Destinations: your HTTP endpoints that events are forwarded to.", no_args_is_help=True
)
deliveries_app = typer.Typer(help="Deliveries: each event sent to each destination.", no_args_is_help=True)
events_app = typer.Typer(help="The event log.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(destinations_app, name="destinations")
    app.add_typer(deliveries_app, name="deliveries")
    app.add_typer(events_app, name="events")


def _when(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


# -- destinations ----------------------------------------------------------------------------------


@destinations_app.command("add")
def destinations_add(
    name: str = typer.Argument(..., help="A short unique name"),
    url: str = typer.Option(..., "--url", help="Where to POST events (http:// or https://)"),
    events: list[str] | None = typer.Option(
        None,
        "--events",
        "-e",
        help="Event patterns: 'call.*', 'aircall:call.*' (repeat or comma-separate; default all)",
    ),
    account: str | None = typer.Option(None, "--account", help="Only events of this account"),
    secret: str | None = typer.Option(None, "--secret", help="Signing secret whsec_<base64>; generated when omitted"),
    ordered: bool = typer.Option(False, "--ordered", help="One resource's events in occurred-at order, one at a time"),
) -> None:
    """Forward matching events to URL, signed per Standard Webhooks."""
    from hookline.forwarding.destinations import DestinationError, DestinationStore, NewDestination
    from hookline.outbound import OutboundPolicy

    wanted = [p for item in events or [] for p in item.split(",") if p.strip()] or None
    cfg = settings()
    policy = OutboundPolicy.from_settings(cfg)
    try:
        # Bad input (a refused address too) fails before the database is opened.
        NewDestination.checked(name, url, wanted, account, secret, policy)
    except DestinationError as exc:
        bad_input(str(exc))
    try:
        dest, generated = DestinationStore(open_database(cfg), policy).add(name, url, wanted, account, secret, ordered)
    except DestinationError as exc:
        bad_input(str(exc))
    console.print(
        f"destination [bold]{dest.name}[/] added: {escape(dest.public()['url'])} events {', '.join(dest.events)}"
        + (f" account {dest.account}" if dest.account else "")
        + (" (ordered)" if dest.ordered else ""),
        highlight=False,
    )
    if generated:
        # Only this once: listings mask it. Verify signatures with it on your side.
        print(f"signing secret (shown once, keep it): {generated}", flush=True)


@destinations_app.command("list")
def destinations_list(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """Destinations with their state and unfinished deliveries; secrets masked."""
    from hookline.forwarding.deliveries import counts_by_state
    from hookline.forwarding.destinations import DestinationStore

    db = open_database()
    dests = DestinationStore(db).list()
    counts = counts_by_state(db)
    if as_json:
        rows = [{**d.public(), "deliveries": counts.get(d.name, {})} for d in dests]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not dests:
        console.print("no destinations yet: `hookline destinations add NAME --url URL`")
        return
    table = Table("name", "url", "events", "state", "queued", "dead", "secret")
    table.columns[1].overflow = "fold"
    for d in dests:
        c = counts.get(d.name, {})
        scope = [f"account {d.account}"] if d.account else []
        scope += ["ordered"] if d.ordered else []
        state = d.public()["state"] + (f": {d.disabled_reason}" if d.disabled_reason else "")
        table.add_row(
            d.name,
            d.public()["url"],
            ", ".join(d.events) + (f" ({', '.join(scope)})" if scope else ""),
            state,
            str(c.get("pending", 0) + c.get("retrying", 0)),
            str(c.get("dead", 0)),
            d.public()["secret"],
        )
    console.print(table)


def _set_paused(name: str, paused: bool) -> None:
    from hookline.forwarding.destinations import DestinationError, DestinationStore

    try:
        DestinationStore(open_database()).set_paused(name, paused)
    except DestinationError as exc:
        bad_input(str(exc))
    console.print(f"destination [bold]{name}[/] {'paused' if paused else 'resumed'}", highlight=False)


@destinations_app.command("pause")
def destinations_pause(name: str = typer.Argument(..., help="Destination name")) -> None:
    """Stop sending to NAME; its deliveries queue up until `resume`."""
    _set_paused(name, True)


@destinations_app.command("resume")
def destinations_resume(name: str = typer.Argument(..., help="Destination name")) -> None:
    """Send to NAME again (also after a 410 Gone disabled it, and with its circuit breaker closed)."""
    _set_paused(name, False)


@destinations_app.command("remove")
def destinations_remove(name: str = typer.Argument(..., help="Destination name")) -> None:
    """Delete NAME and its deliveries."""
    from hookline.forwarding.destinations import DestinationError, DestinationStore

    try:
        dropped = DestinationStore(open_database()).remove(name)
    except DestinationError as exc:
        bad_input(str(exc))
    console.print(f"destination [bold]{name}[/] removed ({dropped} deliveries with it)", highlight=False)


# -- deliveries ------------------------------------------------------------------------------------


@deliveries_app.command("list")
def deliveries_list(
    failed: bool = typer.Option(False, "--failed", help="Only deliveries whose last attempt failed (retrying or dead)"),
    state: str | None = typer.Option(None, "--state", help="pending, retrying, succeeded or dead"),
    destination: str | None = typer.Option(None, "--destination", help="Only this destination's"),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="At most this many, newest first"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Deliveries, newest first."""
    from hookline.forwarding import deliveries
    from hookline.forwarding.destinations import DestinationError, DestinationStore

    if failed and state:
        bad_input("--failed and --state go separately")
    if state is not None and state not in deliveries.STATES:
        bad_input(f"--state must be one of: {', '.join(deliveries.STATES)}")
    db = open_database()
    if destination is not None:
        try:
            DestinationStore(db).get(destination)
        except DestinationError as exc:
            bad_input(str(exc))
    states = deliveries.FILTERS["failed"] if failed else (deliveries.FILTERS[state] if state else ())
    rows = deliveries.list_deliveries(db, states, destination, limit)
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        console.print("no deliveries match")
        return
    table = Table("id", "destination", "event", "state", "attempts", "next attempt", "last status", "last error")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["destination"],
            f"{r['event_id']} {r['provider']}:{r['event']}",
            r["state"],
            str(r["attempts"]),
            _when(r["next_attempt_at"]),
            "" if r["last_status"] is None else str(r["last_status"]),
            (r["last_error"] or "")[:80],
        )
    console.print(table)


@deliveries_app.command("retry")
def deliveries_retry(
    delivery_id: int | None = typer.Argument(None, help="The delivery to send again now", min=1),
    all_failed: bool = typer.Option(False, "--all-failed", help="Every retrying or dead delivery"),
    destination: str | None = typer.Option(None, "--destination", help="With --all-failed: only this destination's"),
) -> None:
    """Send a failed delivery again now, with a fresh retry budget."""
    from hookline.forwarding import deliveries
    from hookline.forwarding.destinations import DestinationError, DestinationStore

    if (delivery_id is None) == (not all_failed):
        bad_input("give a delivery ID or --all-failed (one of the two)")
    if destination is not None and not all_failed:
        bad_input("--destination goes with --all-failed")
    db = open_database()
    if delivery_id is not None:
        try:
            deliveries.retry(db, delivery_id)
        except (LookupError, deliveries.RetryRefused) as exc:
            bad_input(str(exc.args[0]))
        console.print(f"delivery {delivery_id} queued to be sent again", highlight=False)
        return
    if destination is not None:
        try:
            DestinationStore(db).get(destination)
        except DestinationError as exc:
            bad_input(str(exc))
    n = deliveries.retry_all_failed(db, destination)
    console.print(f"{n} failed deliveries queued to be sent again", highlight=False)


# -- events replay ---------------------------------------------------------------------------------


@events_app.command("replay")
def events_replay(
    since: str = typer.Option(..., "--since", help="Events received at or after T (ISO 8601 or unix seconds)"),
    until: str | None = typer.Option(None, "--until", help="... and before T"),
    event: str | None = typer.Option(None, "--event", help="Only events matching this pattern, e.g. 'call.ended'"),
    to: str | None = typer.Option(None, "--to", help="Only this destination (default: every one not disabled)"),
) -> None:
    """Send past events to destinations again (new deliveries; each destination's own filters apply)."""
    from hookline.forwarding import replay
    from hookline.forwarding.destinations import DestinationError
    from hookline.forwarding.patterns import validate as validate_pattern

    start = time_option(since, "--since")
    end = time_option(until, "--until") if until is not None else None
    if end is not None and end <= start:
        bad_input("--until must be after --since")
    if event is not None:
        try:
            validate_pattern(event)
        except ValueError as exc:
            bad_input(str(exc))
    plan = replay.ReplayPlan(start, end, event, to)
    db = open_database()
    try:
        if not replay.targets(db, plan):
            bad_input("no destination to replay to: `hookline destinations add` one first")
        total = replay.count(db, plan)
        with Progress(
            TextColumn("replaying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("events", total=total)
            seen, created = replay.run(db, plan, lambda n: progress.advance(task, n))
    except DestinationError as exc:
        bad_input(str(exc))
    console.print(f"replayed {seen} events: {created} deliveries created", highlight=False)
