"""monday.com accounts: a name, the API token and, for webhooks created by an app, its signing secret.

Both are sealed by the SecretBox before they are stored (hookline needs them in clear to call the
API and to check JWTs) and opened when used; they are never printed (only masked hints) nor logged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import structlog

from hookline.providers.api_urls import check_api_url
from hookline.providers.kit.accounts import SealedAccountStore, SealedTokenAccount, checked_name_and_token
from hookline.providers.kit.credentials import ReloadingCache, box_for, mask
from hookline.secretbox import SecretBox, SecretBoxError
from hookline.store.engine import Database

log = structlog.get_logger(__name__)

__all__ = ["Account", "AccountCache", "AccountStore", "Receiving", "box_for", "mask"]


@dataclass(frozen=True, repr=False)
class Account(SealedTokenAccount):
    name: str
    sealed_token: str
    token_hint: str
    sealed_secret: str | None
    monday_account_id: str | None
    created_at: float
    box: SecretBox
    api_url: str | None = None  # None: added before URLs were stored; follows the setting

    @property
    def signing_secret(self) -> str | None:
        """The app's signing secret in clear (None: not set); raises SecretBoxError when it cannot be opened."""
        return None if self.sealed_secret is None else self.box.open(self.sealed_secret)


class AccountStore(SealedAccountStore[Account]):
    table = "monday_accounts"
    columns = ("name", "token", "token_hint", "signing_secret", "monday_account_id", "created_at", "api_url")

    def _account(self, row: tuple[Any, ...]) -> Account:
        name, sealed, hint, secret, monday_id, created, api_url = row
        return Account(name, sealed, hint, secret, monday_id, created, self.box, api_url)

    def add(
        self,
        name: str,
        token: str,
        signing_secret: str | None,
        monday_account_id: str | None,
        api_url: str | None = None,
    ) -> bool:
        """Register or update an account; True when it is new. `api_url`: the endpoint its API calls
        go to (None keeps an existing account's)."""
        name, token = checked_name_and_token(name, token)
        secret = signing_secret.strip() if signing_secret and signing_secret.strip() else None
        url = None if api_url is None else check_api_url(api_url)
        return self._upsert(
            (name, self.box.seal(token), mask(token), None if secret is None else self.box.seal(secret),
             monday_account_id, time.time(), url),
            ("token", "token_hint", "signing_secret", "monday_account_id"),
        )  # fmt: skip


@dataclass(frozen=True)
class Receiving:
    """What the receiver needs of an account: its name and its signing secret, opened once per reload."""

    name: str
    signing_secret: str | None
    secret_unreadable: bool = False  # set but cannot be opened (HOOKLINE_SECRET_KEY is wrong or missing)


class AccountCache(ReloadingCache):
    """Accounts in memory for the hot path (kit.credentials.ReloadingCache: reloaded every `ttl`
    seconds, and at once on a miss, so an account added a moment ago works at once)."""

    def __init__(self, db: Database, ttl: float, box: SecretBox) -> None:
        super().__init__(db, ttl)
        self.box = box
        self._accounts: dict[str, Receiving] = {}
        self._unreadable: frozenset[str] = frozenset()

    def _load(self) -> None:
        from hookline.oauth.tokens import uninstalled_accounts

        accounts = {}
        with self.db.connection() as conn:
            gone = uninstalled_accounts(conn, "monday")  # an uninstalled app's events are refused
        for a in AccountStore(self.db, self.box).all():
            if a.name in gone:
                continue
            try:
                accounts[a.name] = Receiving(a.name, a.signing_secret)
            except SecretBoxError:
                accounts[a.name] = Receiving(a.name, None, secret_unreadable=True)
        unreadable = frozenset(n for n, r in accounts.items() if r.secret_unreadable)
        if unreadable != self._unreadable:  # said once, not at every reload
            self._unreadable = unreadable
            if unreadable:
                log.error("monday signing secrets cannot be opened: check HOOKLINE_SECRET_KEY", count=len(unreadable))
        self._accounts = accounts

    def get(self, name: str) -> Receiving | None:
        return self._find(lambda: self._accounts.get(name))

    def only(self) -> list[Receiving]:
        """Every account (the receiver falls back to the only one)."""
        return self._find(lambda: list(self._accounts.values()) or None) or []
