"""`hookline monday ...`: accounts and board webhooks (through monday.com's GraphQL API), the catalog."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import typer
from rich.table import Column, Table

from hookline.clitools import bad_input, console, fail, open_database, pick_account, settings
from hookline.providers.kit.cli import add_remove_command, add_update_command
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from hookline.store.queries import load_queries

if TYPE_CHECKING:
    from hookline.providers.monday.api import MondayClient

T = TypeVar("T")
Q = load_queries(__package__)

app = typer.Typer(help="monday.com: accounts, board webhooks, event catalog.", no_args_is_help=True)
account_app = typer.Typer(help="monday.com accounts (API tokens, signing secrets).", no_args_is_help=True)
webhooks_app = typer.Typer(help="Board webhooks at monday.com.", no_args_is_help=True)
app.add_typer(account_app, name="account")
app.add_typer(webhooks_app, name="webhooks")


def _box() -> SecretBox:
    from hookline.providers.monday.accounts import box_for

    return box_for(settings())


def _run(coro: Coroutine[Any, Any, T]) -> T:
    from hookline.providers.monday.api import MondayAPIError

    try:
        return asyncio.run(coro)
    except MondayAPIError as exc:
        fail(exc.message)


def _setting_url() -> str:
    from hookline.providers.monday.settings import load

    return load().api_url


def _client(token: str, api_url: str | None) -> MondayClient:
    """A client of the account's own API URL; accounts added before URLs were stored follow
    HOOKLINE_MONDAY_API_URL."""
    from hookline.providers.api_urls import chosen
    from hookline.providers.monday.api import MondayClient

    return MondayClient(chosen(api_url, _setting_url()), token)


def _account(db: Database, name: str | None) -> Any:
    """The named account, or the only one when no name is given."""
    from hookline.providers.monday.accounts import AccountStore

    return pick_account(AccountStore(db, _box()), name, label="monday.com", command="monday")


def with_account(url: str, account: str) -> str:
    """The webhook URL with `account=NAME` in its query (how the receiver knows the account)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "account"]
    query.append(("account", account))
    return urlunsplit(parts._replace(query=urlencode(query)))


@account_app.command("add")
def account_add(
    name: str = typer.Argument(..., help="A name for this account, used in hookline and in webhook URLs"),
    token: str = typer.Option(
        ..., "--token", metavar="TOKEN", help="A monday.com API token (checked with the `me` query)"
    ),
    signing_secret: str | None = typer.Option(
        None, "--signing-secret", metavar="SECRET",
        help="Your monday app's signing secret: incoming events then need a valid JWT",
    ),
    api_url: str | None = typer.Option(
        None, "--api-url", metavar="URL",
        help="The account's monday.com GraphQL endpoint [default for new accounts: HOOKLINE_MONDAY_API_URL]",
    ),
) -> None:
    """Register an account (again: update it)."""
    from hookline.providers.api_urls import for_add
    from hookline.providers.monday.accounts import AccountStore, mask

    if not name.strip() or not token.strip():
        bad_input("the account name and the token must not be empty")
    if any(c in name for c in "&=?#/ "):
        bad_input("the account name goes in URLs: no spaces or &=?#/")
    db = open_database()
    store = AccountStore(db, _box())
    existing = store.get(name.strip())
    try:
        url, stored = for_add(api_url, existing.api_url if existing else None, existing is not None, _setting_url())
    except ValueError as exc:
        bad_input(str(exc))

    async def me() -> dict[str, Any]:
        async with _client(token.strip(), url) as client:
            return await client.me()

    user = _run(me())
    monday_account = (user.get("account") or {}).get("id")
    monday_id = None if monday_account is None else str(monday_account)
    created = store.add(name, token, signing_secret, monday_id, stored)
    verb = "added" if created else "updated"
    secret = "with" if signing_secret and signing_secret.strip() else "without"
    console.print(
        f"account [bold]{name.strip()}[/] {verb} (token {mask(token.strip())}, {secret} signing secret, API at {url})",
        highlight=False,
    )


def _store(db: Database) -> Any:
    from hookline.providers.monday.accounts import AccountStore

    return AccountStore(db, _box())


add_update_command(
    account_app, _store, label="monday.com", url_help="The account's new monday.com GraphQL endpoint",
    doc="Change an account's API endpoint (every hookline process calls it from its next request).",
)


@account_app.command("list")
def account_list(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """Registered accounts, tokens masked."""
    from hookline.oauth.tokens import installed_accounts, uninstalled_accounts
    from hookline.providers.monday.accounts import AccountStore

    db = open_database()
    accounts = AccountStore(db, _box()).all()
    default = _setting_url()
    with db.connection() as conn:
        installed, uninstalled = installed_accounts(conn, "monday"), uninstalled_accounts(conn, "monday")
    rows: list[dict[str, Any]] = [
        {"name": a.name, "token": a.token_hint, "signing_secret": a.sealed_secret is not None,
         "monday_account_id": a.monday_account_id, "api_url": a.api_url or default,
         "api_url_from": "account" if a.api_url else "setting", "created_at": a.created_at,
         # OAuth installs: "installed" false once the app was uninstalled (its data stays)
         "auth": "oauth" if a.name in installed or a.name in uninstalled else "token",
         "installed": a.name in installed if a.name in installed or a.name in uninstalled else None}
        for a in accounts
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("name", "token", "signing secret", "monday account", Column("api url", overflow="fold"), "added")
    for r in rows:
        added = datetime.fromtimestamp(r["created_at"], UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        url = r["api_url"] if r["api_url_from"] == "account" else f"{r['api_url']} (setting)"
        table.add_row(r["name"], r["token"], "set" if r["signing_secret"] else "", r["monday_account_id"] or "", url,
                      added)
    console.print(table)
    if not accounts:
        console.print("no accounts yet: `hookline monday account add NAME --token T`")


add_remove_command(
    account_app, _store, label="monday.com", left="its webhooks at monday.com",
    doc="Forget an account (its webhooks at monday.com are left as they are).",
)


@webhooks_app.command("create")
def webhooks_create(
    board: str = typer.Option(..., "--board", help="The board's id"),
    event: str = typer.Option(..., "--event", help="create_item, change_column_value, ... (see `monday catalog`)"),
    url: str = typer.Option(..., "--url", help="https://<host>/monday/webhook (?account=NAME is added)"),
    account: str | None = typer.Option(None, "--account", help="Account (optional when there is only one)"),
    config: str | None = typer.Option(None, "--config", help='JSON config, e.g. \'{"columnId": "status"}\''),
) -> None:
    """Create a board webhook; monday.com checks the URL with a challenge that hookline answers."""
    from hookline.providers.monday import catalog

    if event not in catalog.SUBSCRIPTIONS:
        bad_input(f"unknown event {event!r}; known: {', '.join(catalog.SUBSCRIPTIONS)}")
    if not board.strip().isdigit():
        bad_input("--board is a board id (digits)")
    if not url.startswith(("https://", "http://")):
        bad_input("--url must be an http(s) URL")
    if config is not None:
        try:
            json.loads(config)
        except ValueError:
            bad_input("--config must be JSON")
    db = open_database()
    acc = _account(db, account)
    target = with_account(url, acc.name)

    async def create() -> dict[str, Any]:
        async with _client(acc.token, acc.api_url) as client:
            return await client.create_webhook(board.strip(), target, event, config)

    created = _run(create())
    with db.connection() as conn:
        conn.execute(
            Q.record_webhook,
            (str(created["id"]), acc.name, board.strip(), event, config, target, time.time()),
        )
    console.print(f"webhook {created['id']} created on board {board.strip()} for {event}: {target}", highlight=False)


@webhooks_app.command("list")
def webhooks_list(
    board: str = typer.Option(..., "--board", help="The board's id"),
    account: str | None = typer.Option(None, "--account", help="Account (optional when there is only one)"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """The board's webhooks at monday.com."""
    db = open_database()
    acc = _account(db, account)

    async def fetch() -> list[dict[str, Any]]:
        async with _client(acc.token, acc.api_url) as client:
            return await client.webhooks(board.strip())

    hooks = _run(fetch())
    if as_json:
        print(json.dumps(hooks, indent=2))
        return
    table = Table("id", "board", "event", "config")
    for h in hooks:
        table.add_row(str(h.get("id")), str(h.get("board_id")), str(h.get("event")), str(h.get("config") or ""))
    console.print(table)


@webhooks_app.command("delete")
def webhooks_delete(
    webhook_id: str = typer.Argument(..., help="The webhook's id"),
    account: str | None = typer.Option(None, "--account", help="Account (optional when there is only one)"),
) -> None:
    """Delete a webhook at monday.com."""
    db = open_database()
    acc = _account(db, account)

    async def delete() -> dict[str, Any]:
        async with _client(acc.token, acc.api_url) as client:
            return await client.delete_webhook(webhook_id.strip())

    _run(delete())
    with db.connection() as conn:
        conn.execute(Q.forget_webhook, (webhook_id.strip(),))
    console.print(f"webhook {webhook_id.strip()} deleted", highlight=False)


@app.command("catalog")
def catalog_cmd(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """Webhook events one subscribes to, and the event types they deliver (stored as `event`)."""
    from hookline.providers.monday.catalog import PAYLOAD_TYPES, SUBSCRIPTIONS

    rows = [
        {"subscription": s, "delivers": t, "resource": PAYLOAD_TYPES[t][0], "description": PAYLOAD_TYPES[t][1]}
        for s, t in SUBSCRIPTIONS.items()
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("subscribe to", "stored as", "resource", "description")
    for r in rows:
        table.add_row(r["subscription"], r["delivers"], r["resource"], r["description"])
    console.print(table)



def _oauth_app() -> typer.Typer:
    from hookline.oauth.cli import oauth_commands
    from hookline.providers.monday.oauth_install import DEFAULT_API_URL, DEFAULT_AUTHORIZE_URL, PROVIDER

    return oauth_commands(PROVIDER, "monday.com", default_authorize_url=DEFAULT_AUTHORIZE_URL,
                          default_api_url=DEFAULT_API_URL, hook_option="--signing-secret",
                          hook_what="signing secret")


app.add_typer(_oauth_app(), name="oauth")
