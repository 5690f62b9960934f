"""`hookline aircall account ...` and `hookline aircall ping`."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import typer
from rich.table import Column, Table

from hookline.clitools import bad_input, console, fail
from hookline.providers.aircall.accounts import AccountError
from hookline.providers.aircall.cli_common import context, run, say, warn
from hookline.providers.api_urls import chosen

account_app = typer.Typer(help="Aircall accounts: the API credentials hookline uses.", no_args_is_help=True)


def _secret(value: str | None, what: str) -> str | None:
    """`-` reads the secret from standard input, which keeps it out of the shell history."""
    if value == "-":
        line = sys.stdin.readline().strip()
        if not line:
            bad_input(f"no {what} on standard input")
        return line
    return value


@account_app.command("add")
def account_add(
    name: str = typer.Argument(..., help="A name for the account (events and tokens are filed under it)"),
    api_id: str | None = typer.Option(None, "--api-id", help="Aircall API ID (Basic auth)"),
    api_token: str | None = typer.Option(
        None, "--api-token", help="Aircall API token; `-` reads it from stdin; prompted for when omitted"
    ),
    oauth_token: str | None = typer.Option(None, "--oauth-token", help="An OAuth access token instead; `-` = stdin"),
    replace: bool = typer.Option(False, "--replace", help="Replace the credentials of an existing account"),
    api_url: str | None = typer.Option(
        None, "--api-url", metavar="URL",
        help="The account's Aircall API base URL [default for new accounts: HOOKLINE_AIRCALL_API_URL]",
    ),
) -> None:
    """Store the API credentials of an Aircall account (the secret is never shown again)."""
    if oauth_token is not None and (api_id is not None or api_token is not None):
        bad_input("give either --api-id and --api-token, or --oauth-token")
    if oauth_token is None and api_id is None:
        bad_input("give --api-id ID --api-token TOKEN, or --oauth-token TOKEN")
    oauth_token = _secret(oauth_token, "OAuth token")
    api_token = _secret(api_token, "API token")
    if api_id is not None and api_token is None:
        api_token = typer.prompt("Aircall API token", hide_input=True)
    ctx = context()
    try:
        created = ctx.accounts.add(
            name, api_id=api_id, api_token=api_token, oauth_token=oauth_token, replace=replace,
            api_url=api_url, default_api_url=ctx.aircall.api_url,
        )
    except AccountError as exc:
        bad_input(str(exc))
    stored = "encrypted" if ctx.accounts.box.encrypts else "unencrypted (set HOOKLINE_SECRET_KEY to encrypt)"
    verb = "added" if created else "updated"
    say(f"account [bold]{name.strip()}[/] {verb} (API at {ctx.api_url(name.strip())}); secret stored {stored}")
    say(f"check it with: hookline aircall ping --account {name.strip()}")


@account_app.command("list")
def account_list(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """The accounts, with their API IDs masked (secrets are never shown) and their API URLs."""
    ctx = context()
    accounts = ctx.accounts.all()
    default = ctx.aircall.api_url
    if as_json:
        rows = [
            {
                "name": a.name,
                "auth": a.scheme,
                "api_id": a.api_id_hint,
                "secret": "encrypted" if a.encrypted else "stored",
                "api_url": chosen(a.api_url, default),
                "api_url_from": "account" if a.api_url else "setting",
                "created_at": a.created_at,
                "installed": a.installed,
            }
            for a in accounts
        ]
        print(json.dumps(rows, indent=2))
        return
    table = Table("account", "auth", "api id", "secret", Column("api url", overflow="fold"), "added")
    for a in accounts:
        added = datetime.fromtimestamp(a.created_at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        url = a.api_url or f"{default} (setting)"
        secret = "encrypted" if a.encrypted else "stored (plain)"
        table.add_row(a.name, a.scheme, a.api_id_hint or "", secret, url, added)
    console.print(table)
    if not accounts:
        say("no accounts yet: `hookline aircall account add NAME --api-id ID --api-token TOKEN`")


@account_app.command("update")
def account_update(
    name: str = typer.Argument(..., help="The account to change"),
    api_url: str = typer.Option(..., "--api-url", metavar="URL", help="The account's new Aircall API base URL"),
) -> None:
    """Change an account's API base URL (every hookline process calls it from its next request)."""
    ctx = context()
    try:
        ctx.accounts.set_api_url(name, api_url)
    except AccountError as exc:
        bad_input(str(exc))
    say(f"account [bold]{name}[/] now calls the API at {api_url.strip()}")


@account_app.command("remove")
def account_remove(name: str = typer.Argument(..., help="The account to forget")) -> None:
    """Forget an account's credentials (its events and webhook tokens stay)."""
    from hookline.providers.aircall.tokens import TokenStore

    ctx = context()
    if not ctx.accounts.remove(name):
        bad_input(f"no Aircall account named {name!r}")
    say(f"account [bold]{name}[/] removed")
    tokens = len(TokenStore(ctx.db).entries(name))
    if tokens:
        warn(
            f"note: {tokens} webhook token(s) of {name} are still accepted"
            f" (`hookline aircall token list --account {name}`)"
        )


def ping(
    account: str | None = typer.Option(None, "--account", help="Account name (optional when only one exists)"),
) -> None:
    """Check that Aircall accepts an account's credentials."""
    ctx = context()
    name = ctx.account(account)

    async def check() -> bool:
        async with ctx.client(name) as client:
            return await client.ping()

    if not run(check()):
        fail(f"Aircall at {ctx.api_url(name)} answered the ping of account {name} unexpectedly")
    say(f"ok: Aircall accepts the credentials of account [bold]{name}[/] ({ctx.api_url(name)})")
