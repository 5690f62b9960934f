"""What the Aircall commands share: settings, accounts, an API client, and errors as clear messages."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from hookline.clitools import bad_input, console, err_console, fail, open_database, settings, settings_failed
from hookline.config import Settings, SettingsError
from hookline.providers.aircall.accounts import AccountError, AccountStore
from hookline.providers.aircall.settings import AircallSettings, load_aircall_settings
from hookline.providers.aircall.webhooks import WebhookInputError
from hookline.providers.api_urls import chosen, with_url
from hookline.providers.kit.credentials import box_for
from hookline.store.engine import Database

if TYPE_CHECKING:
    # aiohttp is slow to import: only the commands that talk to Aircall pay for it.
    from hookline.providers.aircall.api import AircallClient

T = TypeVar("T")

# Retries and timeouts of the commands' API clients: at most 3 connection attempts of 2 s each with
# backoffs of at most 1 and 2 s, so a refused connection or an unreachable host fails within 10 s.
CLI_PATIENCE: dict[str, Any] = {"max_retries": 2, "backoff_max": 2.0, "connect_timeout": 2.0}

# The base URLs this command's clients called, for messages about network failures (one command
# per process).
_tried: list[str] = []


def say(message: str) -> None:
    """One line of output, never wrapped (piped output would otherwise break at 80 columns)."""
    console.print(message, highlight=False, soft_wrap=True)


def warn(message: str) -> None:
    err_console.print(message, highlight=False, soft_wrap=True)


@dataclass
class Context:
    cfg: Settings
    aircall: AircallSettings
    db: Database
    accounts: AccountStore

    def account(self, name: str | None) -> str:
        try:
            return self.accounts.resolve(name)
        except AccountError as exc:
            bad_input(str(exc))

    def api_url(self, name: str) -> str:
        """The base URL the account's API calls go to: its own, else HOOKLINE_AIRCALL_API_URL."""
        return chosen(self.accounts.api_url(name), self.aircall.api_url)

    def client(self, name: str) -> AircallClient:
        from hookline.providers.aircall.api import AircallClient

        try:
            creds = self.accounts.credentials(name)
        except AccountError as exc:
            bad_input(str(exc))
        base = self.api_url(name)
        _tried.append(base)
        # Someone waits at the terminal: a refused or unreachable API is reported within 10 s.
        return AircallClient(base, creds, **CLI_PATIENCE)


def context() -> Context:
    cfg = settings()
    try:
        aircall = load_aircall_settings()
    except SettingsError as exc:
        settings_failed(exc)
    db = open_database(cfg)
    return Context(cfg, aircall, db, AccountStore(db, box_for(cfg)))


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one command's API work; every expected failure becomes a message and exit 1."""
    from hookline.providers.aircall.api import AircallError, Unavailable, WebhookLimitReached

    try:
        return asyncio.run(coro)
    except WebhookLimitReached as exc:
        fail(f"{exc.message}\n  delete one first: `hookline aircall webhooks list` then `webhooks delete ID`")
    except Unavailable as exc:
        fail(with_url(exc.message, _tried[-1]) if _tried else exc.message)
    except AircallError as exc:
        fail(exc.message)
    except (AccountError, WebhookInputError) as exc:
        bad_input(str(exc))
