"""What every CLI command shares: settings, an opened and migrated database, clear failures."""

from __future__ import annotations

import atexit
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import typer
from rich.console import Console
from rich.markup import escape

from hookline.config import Settings, SettingsError, load_settings
from hookline.store import migrations
from hookline.store.engine import Database, DatabaseError

if TYPE_CHECKING:
    from hookline.provider import Provider
    from hookline.store.migrations import MigrationSource

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a clear error (never a traceback) and exit non-zero: 1 for a failure at run time (the
    network, a provider, the database), 2 for usage and bad input (see bad_input). The message is
    text, not markup: a '[fe80::1]' or a "[/path]" in it is shown as it is."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def bad_input(message: str) -> NoReturn:
    """The command was given something it cannot use (a flag, a value, a setting): exit 2, as for a
    usage error."""
    fail(message, code=2)


def settings_failed(exc: SettingsError) -> NoReturn:
    """One line per bad setting, in plain words; exit 2."""
    for line in exc.lines:
        err_console.print(f"hookline: {line}", highlight=False, soft_wrap=True, markup=False)
    raise typer.Exit(2)


def time_option(value: str, option: str) -> float:
    """A time given on the command line (ISO 8601 or unix seconds) as unix seconds; a clear message
    and exit 2 (bad input) for what is not a plausible time: 'yesterday', 'nan', 1e20."""
    from hookline.timeparse import parse_time

    try:
        return parse_time(value)
    except ValueError as exc:
        bad_input(f"{option}: {exc}")


def settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        settings_failed(exc)


@dataclass(frozen=True)
class Wiring:
    """What the `hookline` command (hookline/cli) hands every command below it: the registered
    providers and the schemas to migrate. Commands ask here, so no part's commands import the
    registry of providers or the assembly (that would be an import cycle between the parts)."""

    providers: tuple[Provider, ...]
    migration_sources: Callable[[], list[MigrationSource]]


_wired: list[Wiring] = []


def wire(wiring: Wiring) -> None:
    """Called once by hookline/cli as it builds the command tree (typer keeps no public context object)."""
    _wired[:] = [wiring]


def wiring() -> Wiring:
    if not _wired:
        raise RuntimeError("the CLI is not wired: hookline.cli sets up the providers")
    return _wired[0]


def providers() -> tuple[Provider, ...]:
    """The registered providers, as the `hookline` command found them."""
    return wiring().providers


def check_provider_settings() -> None:
    """Every provider's own settings, read before a long-running command starts: a bad one is a
    message and exit 2, not a failed startup later."""
    for provider in providers():
        try:
            provider.check_settings()
        except SettingsError as exc:
            settings_failed(exc)


def open_database(cfg: Settings | None = None) -> Database:
    """The configured database with its schema current.

    On SQLite, pending migrations are applied (the embedded default needs no set-up step). On
    PostgreSQL they are not: shared databases are migrated on purpose, with `hookline db upgrade`.
    """
    sources = wiring().migration_sources
    cfg = cfg or settings()
    try:
        db = Database(cfg.database_url)
    except ValueError as exc:
        bad_input(str(exc))
    try:
        if db.embedded:
            migrations.upgrade(db, sources())
        else:
            # One plain connection first: an unreachable server is a message at once, where the
            # pool would retry for 30 s and log each attempt.
            db.connect().close()
            waiting = migrations.pending(db, sources())
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
            bad_input(f"no {label} account named {name!r} (see `hookline {command} account list`)")
        return _openable(account)
    accounts = store.all()
    if len(accounts) == 1:
        return _openable(accounts[0])
    if not accounts:
        bad_input(f"no {label} account yet: `hookline {command} account add NAME --token T`")
    bad_input(f"several {label} accounts: choose one with --account NAME")


def _openable(account: Any) -> Any:
    from hookline.secretbox import SecretBoxError

    try:
        account.token  # noqa: B018 - opened only to check
    except SecretBoxError as exc:
        bad_input(f"account {account.name}: {exc}")
    return account
