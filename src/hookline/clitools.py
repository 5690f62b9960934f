"""What every CLI command shares: settings, an opened and migrated database, clear failures."""

from __future__ import annotations

import atexit
from typing import Any, NoReturn, Protocol

import typer
from rich.console import Console
from rich.markup import escape

from hookline.config import Settings, load_settings
from hookline.store import migrations
from hookline.store.engine import Database, DatabaseError

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a clear error (never a traceback) and exit non-zero. The message is text, not markup: a
    '[fe80::1]' in it is shown as it is."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def time_option(value: str, option: str) -> float:
    """A time given on the command line (ISO 8601 or unix seconds) as unix seconds; a clear message
    and exit 2 (bad input) for what is not a plausible time: 'yesterday', 'nan', 1e20."""
    from hookline.timeparse import parse_time

    try:
        return parse_time(value)
    except ValueError as exc:
        fail(f"{option}: {exc}", 2)


def settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except Exception as exc:  # pydantic's ValidationError and TOML errors
        fail(f"invalid settings: {exc}")


def open_database(cfg: Settings | None = None) -> Database:
    """The configured database with its schema current.

    On SQLite, pending migrations are applied (the embedded default needs no set-up step). On
    PostgreSQL they are not: shared databases are migrated on purpose, with `hookline db upgrade`.
    """
    from hookline.runtime import migration_sources

    cfg = cfg or settings()
    try:
        db = Database(cfg.database_url)
    except ValueError as exc:
        fail(str(exc))
    try:
        if db.dialect == "sqlite":
            migrations.upgrade(db, migration_sources())
        else:
            waiting = migrations.pending(db, migration_sources())
            if waiting:
                fail(f"the database schema is not current ({len(waiting)} pending): run `hookline db upgrade`")
    except DatabaseError as exc:
        fail(str(exc))
    # A PostgreSQL pool left open prints a traceback when the interpreter shuts down.
    atexit.register(db.close)
    return db


class AccountLookup(Protocol):
    def get(self, name: str) -> Any: ...

    def all(self) -> list[Any]: ...


def pick_account(store: AccountLookup, name: str | None, *, label: str, command: str) -> Any:
    """The named account, or the only one when no name is given; its secret is opened once here so
    that a wrong HOOKLINE_SECRET_KEY is a message, not a traceback later. `label` names the provider
    for people ("monday.com"), `command` for the CLI ("monday")."""
    if name is not None:
        account = store.get(name)
        if account is None:
            fail(f"no {label} account named {name!r} (see `hookline {command} account list`)")
        return _openable(account)
    accounts = store.all()
    if len(accounts) == 1:
        return _openable(accounts[0])
    if not accounts:
        fail(f"no {label} account yet: `hookline {command} account add NAME --token T`")
    fail(f"several {label} accounts: choose one with --account NAME")


def _openable(account: Any) -> Any:
    from hookline.secretbox import SecretBoxError

    try:
        account.token  # noqa: B018 - opened only to check
    except SecretBoxError as exc:
        fail(f"account {account.name}: {exc}")
    return account
