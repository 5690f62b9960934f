"""`hookline aircall ...`: tokens and the event catalog here; accounts, webhooks, watchdog and backfill
in the cli_* modules, registered at the end of this file."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer
from rich.table import Table

from hookline.clitools import bad_input, console, open_database

app = typer.Typer(help="Aircall: webhook tokens, event catalog, accounts and webhooks.", no_args_is_help=True)
token_app = typer.Typer(help="Webhook tokens that authenticate incoming Aircall events.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("add")
def token_add(
    token: str = typer.Argument(..., help="The webhook token Aircall returned when the webhook was created"),
    account: str = typer.Option(..., "--account", help="Account name events with this token belong to"),
    webhook_id: str | None = typer.Option(None, "--webhook-id", help="Aircall webhook id, if known"),
    replace: bool = typer.Option(False, "--replace", help="Move the token from the account it belongs to now"),
) -> None:
    """Accept events carrying TOKEN, as events of ACCOUNT."""
    from hookline.providers.aircall.tokens import TokenStore, TokenTaken, mask

    store = TokenStore(open_database())
    try:
        created = store.add(token, account.strip(), webhook_id, replace=replace)
    except TokenTaken as exc:
        bad_input(str(exc))
    except ValueError as exc:
        bad_input(str(exc))
    verb = "added" if created else "updated"
    console.print(f"token {mask(token)} {verb} for account [bold]{account}[/]", highlight=False)


@token_app.command("list")
def token_list(
    account: str | None = typer.Option(None, "--account", help="Only this account's tokens"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Registered tokens, masked."""
    from hookline.providers.aircall.tokens import TokenStore

    entries = TokenStore(open_database()).entries(account)
    if as_json:
        rows = [
            {"token": e.hint, "account": e.account, "webhook_id": e.webhook_id, "created_at": e.created_at}
            for e in entries
        ]
        print(json.dumps(rows, indent=2))
        return
    table = Table("token", "account", "webhook id", "added")
    for e in entries:
        added = datetime.fromtimestamp(e.created_at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        table.add_row(e.hint, e.account, e.webhook_id or "", added)
    console.print(table)
    if not entries:
        console.print("no tokens yet: `hookline aircall token add TOKEN --account NAME`")


@token_app.command("remove")
def token_remove(token: str = typer.Argument(..., help="The token to stop accepting")) -> None:
    """Stop accepting events carrying TOKEN."""
    from hookline.providers.aircall.tokens import TokenStore, mask

    if not TokenStore(open_database()).remove(token):
        bad_input(f"no such token: {mask(token)}")
    console.print(f"token {mask(token)} removed", highlight=False)


@app.command("catalog")
def catalog_cmd(
    asyncapi: bool = typer.Option(False, "--asyncapi", help="Print an AsyncAPI document of the receive channel"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Every Aircall event type hookline knows, with its resource family."""
    from hookline.providers.aircall.catalog import CATALOG

    if asyncapi:
        from hookline.providers.aircall.asyncapi import asyncapi_document

        print(json.dumps(asyncapi_document(), indent=2))
        return
    if as_json:
        print(
            json.dumps(
                [{"event": t.name, "family": t.family, "description": t.description} for t in CATALOG.values()],
                indent=2,
            )
        )
        return
    table = Table("event", "family", "description")
    for t in CATALOG.values():
        table.add_row(t.name, t.family, t.description)
    console.print(table)
    console.print(f"{len(CATALOG)} event types")


def _register() -> None:
    from hookline.providers.aircall.cli_accounts import account_app, ping
    from hookline.providers.aircall.cli_backfill import backfill
    from hookline.providers.aircall.cli_oauth import oauth_app
    from hookline.providers.aircall.cli_recordings import recordings_app
    from hookline.providers.aircall.cli_watchdog import incidents, watchdog
    from hookline.providers.aircall.cli_webhooks import webhooks_app

    app.add_typer(account_app, name="account")
    app.add_typer(webhooks_app, name="webhooks")
    app.add_typer(recordings_app, name="recordings")
    app.add_typer(oauth_app, name="oauth")
    app.command("ping")(ping)
    app.command("backfill")(backfill)
    app.command("watchdog")(watchdog)
    app.command("incidents")(incidents)


_register()
