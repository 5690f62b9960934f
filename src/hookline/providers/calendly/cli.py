"""`hookline calendly ...`: accounts, signing keys, webhook subscriptions, the watchdog, the catalog."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.table import Column, Table

from hookline.clitools import bad_input, console, fail, open_database, pick_account, settings
from hookline.providers.kit.cli import add_remove_command, add_update_command
from hookline.secretbox import SecretBox
from hookline.store.engine import Database

if TYPE_CHECKING:
    from hookline.providers.calendly.api import CalendlyClient

T = TypeVar("T")

app = typer.Typer(help="Calendly: accounts, signing keys, webhook subscriptions, watchdog.", no_args_is_help=True)
account_app = typer.Typer(help="Calendly accounts (API tokens).", no_args_is_help=True)
key_app = typer.Typer(help="Webhook signing keys that authenticate incoming Calendly events.", no_args_is_help=True)
subs_app = typer.Typer(help="Webhook subscriptions at Calendly.", no_args_is_help=True)
app.add_typer(account_app, name="account")
app.add_typer(key_app, name="key")
app.add_typer(subs_app, name="subscriptions")


def _when(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _box() -> SecretBox:
    from hookline.providers.calendly.accounts import box_for

    return box_for(settings())


def _run(coro: Coroutine[Any, Any, T]) -> T:
    from hookline.providers.calendly.api import CalendlyAPIError
    from hookline.secretbox import SecretBoxError

    try:
        return asyncio.run(coro)
    except CalendlyAPIError as exc:
        fail(exc.message)
    except SecretBoxError as exc:
        bad_input(str(exc))


def _account(db: Database, name: str | None) -> Any:
    """The named account, or the only one when no name is given."""
    from hookline.providers.calendly.accounts import AccountStore

    return pick_account(AccountStore(db, _box()), name, label="Calendly", command="calendly")


def _setting_url() -> str:
    from hookline.providers.calendly.settings import load

    return load().api_url


def _client(token: str, api_url: str | None) -> CalendlyClient:
    """A client of the account's own API URL; accounts added before URLs were stored follow
    HOOKLINE_CALENDLY_API_URL."""
    from hookline.providers.api_urls import chosen
    from hookline.providers.calendly.api import CalendlyClient

    return CalendlyClient(chosen(api_url, _setting_url()), token)


@contextlib.asynccontextmanager
async def _account_client(db: Database, acc: Any) -> AsyncIterator[CalendlyClient]:
    """A client with the account's credentials, as the watchdog has them: an OAuth installation's
    access token refreshed when it has expired (and once after a 401), an account's own token as is."""
    import aiohttp

    from hookline import log as logconf
    from hookline.providers.api_session import TIMEOUT
    from hookline.providers.api_urls import chosen
    from hookline.providers.calendly.api import CalendlyClient
    from hookline.providers.calendly.oauth_tokens import credentials

    cfg = settings()
    logconf.configure(cfg.log_format, cfg.log_level)  # a refresh's log line goes to stderr, not into --json
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        token, reauth = await credentials(db, _box(), acc, session)
        async with CalendlyClient(chosen(acc.api_url, _setting_url()), token, session, reauth) as client:
            yield client


@account_app.command("add")
def account_add(
    name: str = typer.Argument(..., help="A name for this account, used in hookline only"),
    token: str = typer.Option(..., "--token", metavar="TOKEN", help="A personal access token or OAuth access token"),
    api_url: str | None = typer.Option(
        None, "--api-url", metavar="URL",
        help="The account's Calendly API base URL [default for new accounts: HOOKLINE_CALENDLY_API_URL]",
    ),
) -> None:
    """Register an account (again: update it); the token is checked with GET /users/me."""
    from hookline.providers.calendly.accounts import AccountStore
    from hookline.providers.calendly.masking import mask

    if not name.strip() or not token.strip():
        bad_input("the account name and the token must not be empty")
    db = open_database()
    store = AccountStore(db, _box())
    url, stored = _url_to_store(api_url, store.get(name.strip()))

    async def me() -> dict[str, Any]:
        async with _client(token.strip(), url) as client:
            return await client.me()

    user = _run(me())
    created = store.add(name, token, user.get("uri"), user.get("current_organization"), stored)
    verb = "added" if created else "updated"
    who = user.get("email") or user.get("uri")
    console.print(
        f"account [bold]{name.strip()}[/] {verb} (token {mask(token.strip())}, user {who}, API at {url})",
        highlight=False,
    )


def _url_to_store(given: str | None, existing: Any) -> tuple[str, str | None]:
    """(the URL `account add` calls, the URL it stores: None keeps an existing account's own)."""
    from hookline.providers.api_urls import for_add

    try:
        return for_add(given, existing.api_url if existing else None, existing is not None, _setting_url())
    except ValueError as exc:
        bad_input(str(exc))


def _store(db: Database) -> Any:
    from hookline.providers.calendly.accounts import AccountStore

    return AccountStore(db, _box())


add_update_command(
    account_app, _store, label="Calendly", url_help="The account's new Calendly API base URL",
    doc="Change an account's API base URL (every hookline process calls it from its next request).",
)


@account_app.command("list")
def account_list(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """Registered accounts, tokens masked."""
    from hookline.oauth.tokens import installed_accounts, uninstalled_accounts
    from hookline.providers.calendly.accounts import AccountStore

    db = open_database()
    accounts = AccountStore(db, _box()).all()
    default = _setting_url()
    with db.connection() as conn:
        installed, uninstalled = installed_accounts(conn, "calendly"), uninstalled_accounts(conn, "calendly")
    if as_json:
        rows = [
            {"name": a.name, "token": a.token_hint, "user": a.user_uri, "organization": a.organization_uri,
             "api_url": a.api_url or default, "api_url_from": "account" if a.api_url else "setting",
             "created_at": a.created_at,
             # OAuth installs: "installed" false once the app was uninstalled (its data stays)
             "auth": "oauth" if a.name in installed or a.name in uninstalled else "token",
             "installed": a.name in installed if a.name in installed or a.name in uninstalled else None}
            for a in accounts
        ]
        print(json.dumps(rows, indent=2))
        return
    table = Table("name", "token", "organization", Column("api url", overflow="fold"), "added")
    for a in accounts:
        url = a.api_url or f"{default} (setting)"
        table.add_row(a.name, a.token_hint, a.organization_uri or "", url, _when(a.created_at))
    console.print(table)
    if not accounts:
        console.print("no accounts yet: `hookline calendly account add NAME --token T`")


add_remove_command(
    account_app, _store, label="Calendly", left="its subscriptions at Calendly",
    doc="Forget an account, its signing keys and its managed subscriptions (nothing is deleted at Calendly).",
)


@key_app.command("add")
def key_add(
    key: str = typer.Argument(..., help="A webhook signing key (e.g. your OAuth app's)"),
    account: str | None = typer.Option(None, "--account", help="Account the key's events belong to"),
) -> None:
    """Accept events signed with KEY as events of ACCOUNT."""
    from hookline.providers.calendly.keys import KeyStore
    from hookline.providers.calendly.masking import mask

    db = open_database()
    acc = _account(db, account)
    try:
        key_id = KeyStore(db, _box()).add(acc.name, key)
    except ValueError as exc:
        bad_input(str(exc))
    console.print(f"signing key {mask(key.strip())} (id {key_id}) accepted for {acc.name}", highlight=False)


@key_app.command("list")
def key_list(
    account: str | None = typer.Option(None, "--account", help="Only this account's keys"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Signing keys, masked."""
    from hookline.providers.calendly.keys import KeyStore

    entries = KeyStore(open_database(), _box()).entries(account)
    if as_json:
        print(json.dumps([e.__dict__ for e in entries], indent=2))
        return
    table = Table("id", "key", "account", "added", "expires")
    for e in entries:
        table.add_row(str(e.id), e.hint, e.account, _when(e.created_at), _when(e.expires_at))
    console.print(table)


@key_app.command("remove")
def key_remove(key_id: int = typer.Argument(..., help="The key's id (see `key list`)")) -> None:
    """Stop accepting events signed with a key, at once."""
    from hookline.providers.calendly.keys import KeyStore

    if not KeyStore(open_database(), _box()).remove(key_id):
        bad_input(f"no signing key with id {key_id}")
    console.print(f"signing key {key_id} removed", highlight=False)


def _events(given: list[str] | None, scope: str) -> list[str]:
    from hookline.providers.calendly import catalog

    events = [e.strip() for item in (given or []) for e in item.split(",") if e.strip()]
    if not events:
        return list(catalog.DEFAULT_EVENTS)
    unknown = [e for e in events if e not in catalog.CATALOG]
    if unknown:
        bad_input(f"unknown event(s) {', '.join(unknown)}; known: {', '.join(catalog.CATALOG)}")
    if scope != "organization" and catalog.ORGANIZATION_ONLY & set(events):
        bad_input("routing_form_submission.created needs --scope organization")
    return list(dict.fromkeys(events))


@subs_app.command("create")
def subs_create(
    url: str = typer.Option(..., "--url", help="Where Calendly sends events: https://<host>/calendly/webhook"),
    account: str | None = typer.Option(None, "--account", help="Account (optional when there is only one)"),
    scope: str = typer.Option("user", "--scope", help="user or organization"),
    events: list[str] | None = typer.Option(None, "--events", help="Event types, repeated or comma-separated"),
) -> None:
    """Create a subscription with a freshly generated signing key (stored, never shown)."""
    from hookline.providers.calendly.api import CalendlyAPIError
    from hookline.providers.calendly.keys import KeyStore, generate
    from hookline.providers.calendly.masking import mask
    from hookline.providers.calendly.subscriptions import SubscriptionStore

    if scope not in ("user", "organization"):
        bad_input("--scope is user or organization")
    if not url.startswith(("https://", "http://")):
        bad_input("--url must be an http(s) URL")
    chosen = _events(events, scope)
    db = open_database()
    acc = _account(db, account)
    if not acc.organization_uri:
        bad_input(f"account {acc.name} has no organization: add it again with `hookline calendly account add`")
    keys = KeyStore(db, _box())
    key = generate()
    # Stored before asking Calendly, so that the first event (which can come at once) verifies.
    key_id = keys.add(acc.name, key)

    async def create() -> dict[str, Any]:
        async with _account_client(db, acc) as client:
            return await client.create_subscription(
                url=url, events=chosen, organization=acc.organization_uri, scope=scope, user=acc.user_uri,
                signing_key=key,
            )

    try:
        created = asyncio.run(create())
    except CalendlyAPIError as exc:
        keys.remove(key_id)
        fail(exc.message)
    SubscriptionStore(db).add(str(created["uri"]), acc.name, url, chosen, scope, key_id)
    uuid = str(created["uri"]).rsplit("/", 1)[-1]
    console.print(
        f"subscription {uuid} created for {acc.name}: {url} ({', '.join(chosen)}); signing key {mask(key)} stored",
        highlight=False,
    )


@subs_app.command("list")
def subs_list(
    account: str | None = typer.Option(None, "--account", help="Account (optional when there is only one)"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """The account's subscriptions at Calendly (user and organization scopes)."""
    from hookline.providers.calendly.api import CalendlyAPIError
    from hookline.providers.calendly.subscriptions import SubscriptionStore

    db = open_database()
    acc = _account(db, account)
    managed = {m.uuid for m in SubscriptionStore(db).all(acc.name)}

    async def fetch() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        async with _account_client(db, acc) as client:
            for scope in ("user", "organization"):
                try:
                    found += await client.subscriptions(acc.organization_uri, scope, acc.user_uri)
                except CalendlyAPIError as exc:
                    if exc.status != 403 or scope == "user":  # non-admins may not list the organization's
                        raise
        return found

    subs = _run(fetch())
    rows: list[dict[str, Any]] = [
        {
            "id": str(s.get("uri", "")).rsplit("/", 1)[-1],
            "state": s.get("state"),
            "scope": s.get("scope"),
            "url": s.get("callback_url"),
            "events": s.get("events") or [],
            "managed": str(s.get("uri", "")).rsplit("/", 1)[-1] in managed,
        }
        for s in subs
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("id", "state", "scope", "url", "events", "managed")
    for r in rows:
        table.add_row(r["id"], str(r["state"]), str(r["scope"]), str(r["url"]), ", ".join(r["events"]),
                      "yes" if r["managed"] else "")
    console.print(table)


@subs_app.command("delete")
def subs_delete(
    subscription: str = typer.Argument(..., help="The subscription's id (uuid) or URI"),
    account: str | None = typer.Option(None, "--account", help="Account (optional when there is only one)"),
) -> None:
    """Delete a subscription at Calendly; its signing key keeps verifying retries for 24 hours."""
    from hookline.providers.calendly.api import CalendlyAPIError
    from hookline.providers.calendly.keys import KeyStore
    from hookline.providers.calendly.subscriptions import SubscriptionStore, uuid_of

    db = open_database()
    acc = _account(db, account)
    uuid = uuid_of(subscription.strip())
    if not uuid:
        bad_input("give the subscription's id")
    store = SubscriptionStore(db)
    managed = store.find(uuid)

    async def delete() -> None:
        async with _account_client(db, acc) as client:
            await client.delete_subscription(uuid)

    try:
        asyncio.run(delete())
    except CalendlyAPIError as exc:
        if not (exc.status == 404 and managed is not None):
            fail(exc.message)
        console.print(f"subscription {uuid} was already gone at Calendly", highlight=False)
    if managed is not None:
        store.remove(managed.uri)
        if managed.key_id is not None:
            KeyStore(db, _box()).retire(managed.key_id)
    console.print(f"subscription {uuid} deleted", highlight=False)


@app.command("watchdog")
def watchdog_cmd(
    once: bool = typer.Option(False, "--once", help="Check once and exit (otherwise `serve` runs it)"),
    account: str | None = typer.Option(None, "--account", help="Only this account"),
) -> None:
    """Recreate managed subscriptions Calendly disabled, and backfill what they missed."""
    from hookline.providers.calendly.settings import load
    from hookline.providers.calendly.watchdog import check_all

    if not once:
        bad_input("`serve` runs the watchdog; use --once to run one check from the command line")
    db = open_database()
    if account is not None:
        _account(db, account)
    reports = asyncio.run(check_all(db, load(), _box(), account))
    if reports is None:
        console.print("another hookline process is running the watchdog right now; nothing done")
        return
    failed = False
    for r in reports:
        for old, new in r.recreated:
            console.print(f"{r.account}: subscription {old} recreated as {new}", highlight=False)
        for error in r.errors:
            failed = True
            console.print(f"[red]{r.account}: {error}[/]", highlight=False)
        console.print(
            f"{r.account}: {r.checked} checked, {len(r.recreated)} recreated, {r.backfilled} events backfilled",
            highlight=False,
        )
    if failed:
        raise typer.Exit(1)


@app.command("catalog")
def catalog_cmd(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """The Calendly event types hookline knows."""
    from hookline.providers.calendly.catalog import CATALOG, SYNCED

    rows = [{"event": k, "description": v} for k, v in CATALOG.items()]
    rows.append({"event": SYNCED, "description": "hookline's backfill: an invitee as the API returned it"})
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("event", "description")
    for r in rows:
        table.add_row(r["event"], r["description"])
    console.print(table)



def _oauth_app() -> typer.Typer:
    from hookline.oauth.cli import oauth_commands
    from hookline.providers.calendly.oauth_install import DEFAULT_API_URL, DEFAULT_AUTHORIZE_URL, PROVIDER

    return oauth_commands(PROVIDER, "Calendly", default_authorize_url=DEFAULT_AUTHORIZE_URL,
                          default_api_url=DEFAULT_API_URL, hook_option="--webhook-signing-key",
                          hook_what="webhook signing key")


app.add_typer(_oauth_app(), name="oauth")
