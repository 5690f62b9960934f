"""`hookline aircall webhooks ...`: Aircall webhook subscriptions, with their tokens kept in step."""

from __future__ import annotations

import json
from typing import Any

import typer

from hookline.clitools import bad_input, fail
from hookline.providers.aircall.cli_common import Context, context, run, say, warn
from hookline.providers.aircall.tokens import TokenStore, TokenTaken, mask
from hookline.providers.aircall.webhooks import (
    WebhookInputError,
    WebhookView,
    check_url,
    expand_events,
    receiver_url,
    view,
)

webhooks_app = typer.Typer(
    help="Aircall webhooks: create, list, update, re-enable, delete, import.", no_args_is_help=True
)

ACCOUNT = typer.Option(None, "--account", help="Account name (optional when only one exists)")
EVENTS_HELP = "Event names (repeat or comma-separate; `call.*` = a whole family); default: every catalog event"


def _registered(ctx: Context) -> set[str]:
    return {e.token_sha256 for e in TokenStore(ctx.db).entries()}


def _views(ctx: Context, hooks: list[dict[str, Any]]) -> list[WebhookView]:
    known = _registered(ctx)
    return [view(h, ctx.cfg.public_url, known) for h in hooks]


def _events(given: list[str] | None) -> list[str]:
    try:
        events, unknown = expand_events(given)
    except WebhookInputError as exc:
        bad_input(str(exc))
    if unknown:
        warn(f"warning: not in hookline's catalog (sent anyway): {', '.join(unknown)}")
    return events


def _print_one(v: WebhookView, *, with_events: bool) -> None:
    state = "active" if v.active else "[red]inactive[/]"
    say(f"webhook [bold]{v.webhook_id}[/] ({v.name or 'no name'}) {state}")
    say(f"  url:    {v.url}")
    say(f"  token:  {v.token_hint or '?'} ({'registered' if v.registered else 'not registered'})")
    say(f"  events: {len(v.events)}")
    if with_events:
        for name in v.events:
            say(f"    {name}")


@webhooks_app.command("create")
def create(
    account: str | None = ACCOUNT,
    url: str | None = typer.Option(
        None, "--url", help="Where Aircall delivers; default HOOKLINE_PUBLIC_URL/aircall/webhook"
    ),
    events: list[str] | None = typer.Option(None, "--events", "--event", help=EVENTS_HELP),
    name: str | None = typer.Option(None, "--name", help="The webhook's name in Aircall's dashboard"),
    allow_http: bool = typer.Option(False, "--allow-http", help="Accept an http:// URL (local tests only)"),
) -> None:
    """Create a webhook with an explicit events list and register its token."""
    ctx = context()
    target = url or receiver_url(ctx.cfg.public_url)
    if target is None:
        bad_input("give --url, or set HOOKLINE_PUBLIC_URL to this hookline's https address")
    try:
        target = check_url(target, allow_http=allow_http)
    except WebhookInputError as exc:
        bad_input(str(exc))
    wanted = _events(events)
    acc = ctx.account(account)

    async def go() -> dict[str, Any]:
        async with ctx.client(acc) as client:
            return await client.create_webhook(target, wanted, name)

    hook = run(go())
    webhook_id = str(hook.get("webhook_id") or "")
    token = hook.get("token")
    if not isinstance(token, str) or not token:
        fail(f"Aircall created webhook {webhook_id} without returning its token: run `webhooks import --account {acc}`")
    TokenStore(ctx.db).add(token, acc, webhook_id, replace=True)  # Aircall just made it for this account
    say(f"created webhook [bold]{webhook_id}[/] for account {acc}: {len(hook.get('events') or [])} events -> {target}")
    say(f"token {mask(token)} registered: events carrying it are accepted as account {acc}")


@webhooks_app.command("list")
def list_(
    account: str | None = ACCOUNT, as_json: bool = typer.Option(False, "--json", help="Machine-readable")
) -> None:
    """The account's webhooks, active or not, and which ones deliver to this hookline."""
    ctx = context()
    acc = ctx.account(account)

    async def go() -> list[dict[str, Any]]:
        async with ctx.client(acc) as client:
            return await client.list_webhooks()

    views = _views(ctx, run(go()))
    if as_json:
        print(json.dumps([v.as_json() for v in views], indent=2))
        return
    # One webhook per two lines rather than a table: ids and URLs stay whole at any terminal width.
    for v in views:
        state = "active  " if v.active else "INACTIVE"
        here = ("here" if v.registered else "here (token not registered)") if v.ours else "elsewhere"
        say(f"{v.webhook_id}  {state}  {len(v.events):>3} events  {here}  {v.name or ''}")
        say(f"    {v.url}")
    inactive = sum(1 for v in views if not v.active)
    say(f"{len(views)} webhook(s), {inactive} inactive, {sum(v.ours for v in views)} pointing here")


@webhooks_app.command("show")
def show(
    webhook_id: str = typer.Argument(..., help="The Aircall webhook id"),
    account: str | None = ACCOUNT,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """One webhook with its events."""
    ctx = context()
    acc = ctx.account(account)

    async def go() -> dict[str, Any]:
        async with ctx.client(acc) as client:
            return await client.get_webhook(webhook_id)

    v = _views(ctx, [run(go())])[0]
    if as_json:
        print(json.dumps(v.as_json(), indent=2))
        return
    _print_one(v, with_events=True)


@webhooks_app.command("update")
def update(
    webhook_id: str = typer.Argument(..., help="The Aircall webhook id"),
    account: str | None = ACCOUNT,
    url: str | None = typer.Option(None, "--url", help="A new delivery URL"),
    events: list[str] | None = typer.Option(None, "--events", "--event", help="The new events list (replaces it)"),
    name: str | None = typer.Option(None, "--name", help="A new name"),
    allow_http: bool = typer.Option(False, "--allow-http", help="Accept an http:// URL (local tests only)"),
) -> None:
    """Change a webhook's URL, events or name (its events list is always sent explicitly)."""
    if url is None and events is None and name is None:
        bad_input("nothing to change: give --url, --events or --name")
    if url is not None:
        try:
            url = check_url(url, allow_http=allow_http)
        except WebhookInputError as exc:
            bad_input(str(exc))
    wanted = _events(events) if events is not None else None
    ctx = context()
    acc = ctx.account(account)

    async def go() -> dict[str, Any]:
        async with ctx.client(acc) as client:
            return await client.update_webhook(webhook_id, url=url, events=wanted, custom_name=name)

    v = _views(ctx, [run(go())])[0]
    say(f"updated webhook [bold]{v.webhook_id}[/]")
    _print_one(v, with_events=False)


@webhooks_app.command("enable")
def enable(webhook_id: str = typer.Argument(..., help="The Aircall webhook id"), account: str | None = ACCOUNT) -> None:
    """Re-activate a webhook Aircall disabled (keeping its events list)."""
    ctx = context()
    acc = ctx.account(account)

    async def go() -> dict[str, Any]:
        async with ctx.client(acc) as client:
            return await client.update_webhook(webhook_id, active=True)

    v = _views(ctx, [run(go())])[0]
    say(f"webhook [bold]{v.webhook_id}[/] is {'active' if v.active else 'still inactive'}")
    if not v.active:
        raise typer.Exit(1)


@webhooks_app.command("delete")
def delete(webhook_id: str = typer.Argument(..., help="The Aircall webhook id"), account: str | None = ACCOUNT) -> None:
    """Delete a webhook in Aircall and stop accepting its token."""
    ctx = context()
    acc = ctx.account(account)

    async def go() -> str | None:
        async with ctx.client(acc) as client:
            token = (await client.get_webhook(webhook_id)).get("token")
            await client.delete_webhook(webhook_id)
            return token if isinstance(token, str) and token else None

    token = run(go())
    store = TokenStore(ctx.db)
    removed = store.remove_webhook(webhook_id) + (1 if token and store.remove(token) else 0)
    say(f"deleted webhook [bold]{webhook_id}[/]; {removed} token(s) no longer accepted")


@webhooks_app.command("import")
def import_(
    account: str | None = ACCOUNT,
    all_: bool = typer.Option(False, "--all", help="Import every webhook's token, wherever it points"),
) -> None:
    """Register the tokens of webhooks made elsewhere (e.g. Aircall's dashboard) that point here."""
    ctx = context()
    acc = ctx.account(account)
    if not all_ and not ctx.cfg.public_url:
        bad_input("set HOOKLINE_PUBLIC_URL so that webhooks pointing here can be recognised, or pass --all")

    async def go() -> list[dict[str, Any]]:
        async with ctx.client(acc) as client:
            hooks = await client.list_webhooks()
            # A listing may leave the token out; one GET per such webhook fetches it.
            return [h if h.get("token") else await client.get_webhook(str(h.get("webhook_id"))) for h in hooks]

    store = TokenStore(ctx.db)
    added = known = skipped = 0
    hooks = run(go())
    for hook, v in zip(hooks, _views(ctx, hooks), strict=True):
        if not (all_ or v.ours_by_url):
            skipped += 1
            continue
        token = hook.get("token")
        if not isinstance(token, str) or not token:
            warn(f"webhook {v.webhook_id}: Aircall did not return its token")
            continue
        try:
            fresh = store.add(token, acc, v.webhook_id)
        except TokenTaken as exc:
            warn(f"webhook {v.webhook_id}: {exc}")  # moved only by `token add --replace`
            continue
        if fresh:
            added += 1
            say(f"imported webhook {v.webhook_id} ({v.url}) token {v.token_hint}")
        else:
            known += 1
    say(f"{added} token(s) imported, {known} already registered, {skipped} webhook(s) pointing elsewhere")
