"""What the Aircall commands share: settings, accounts, an API client, and errors as clear messages."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from hookline.clitools import console, err_console, fail, open_database, settings
from hookline.config import Settings
from hookline.providers.aircall.accounts import AccountError, AccountStore
from hookline.providers.aircall.settings import AircallSettings, load_aircall_settings
from hookline.providers.aircall.webhooks import WebhookInputError
from hookline.secretbox import SecretBox
from hookline.store.engine import Database

if TYPE_CHECKING:
    # aiohttp is slow to import: only the commands that talk to Aircall pay for it.
    from hookline.providers.aircall.api import AircallClient

T = TypeVar("T")


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
            fail(str(exc))

    def client(self, name: str) -> AircallClient:
        from hookline.providers.aircall.api import AircallClient

        try:
            creds = self.accounts.credentials(name)
        except AccountError as exc:
            fail(str(exc))
        return AircallClient(self.aircall.api_url, creds)


def context() -> Context:
    cfg = settings()
    try:
        aircall = load_aircall_settings()
    except Exception as exc:  # pydantic's ValidationError, TOML errors
        fail(f"invalid Aircall settings: {exc}")
    db = open_database(cfg)
    key = cfg.secret_key.get_secret_value() if cfg.secret_key is not None else None
    return Context(cfg, aircall, db, AccountStore(db, SecretBox(key)))


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one command's API work; every expected failure becomes a message and exit 1."""
    from hookline.providers.aircall.api import AircallError, WebhookLimitReached

    try:
        return asyncio.run(coro)
    except WebhookLimitReached as exc:
        fail(f"{exc.message}\n  delete one first: `hookline aircall webhooks list` then `webhooks delete ID`")
    except AircallError as exc:
        fail(exc.message)
    except (AccountError, WebhookInputError) as exc:
        fail(str(exc))
