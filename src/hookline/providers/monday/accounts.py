"""monday.com accounts: a name, the API token and, for webhooks created by an app, its signing secret.

Both are sealed by the SecretBox before they are stored (hookline needs them in clear to call the
API and to check JWTs) and opened when used; they are never printed (only masked hints) nor logged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import structlog

from hookline.config import Settings
from hookline.providers.api_urls import check_api_url
from hookline.secretbox import SecretBox, SecretBoxError
from hookline.store.engine import Database

log = structlog.get_logger(__name__)


def box_for(settings: Settings) -> SecretBox:
    """The SecretBox of HOOKLINE_SECRET_KEY (no key: secrets are stored unencrypted, never shown)."""
    return SecretBox(settings.secret_key.get_secret_value() if settings.secret_key is not None else None)


def mask(secret: str) -> str:
    return f"{secret[:4]}…{secret[-4:]}" if len(secret) >= 16 else "…"


@dataclass(frozen=True)
class Account:
    name: str
    sealed_token: str
    token_hint: str
    sealed_secret: str | None
    monday_account_id: str | None
    created_at: float
    box: SecretBox
    api_url: str | None = None  # None: added before URLs were stored; follows the setting

    @property
    def token(self) -> str:
        """The API token in clear; raises SecretBoxError when it cannot be opened."""
        return self.box.open(self.sealed_token)

    @property
    def signing_secret(self) -> str | None:
        """The app's signing secret in clear (None: not set); raises SecretBoxError when it cannot be opened."""
        return None if self.sealed_secret is None else self.box.open(self.sealed_secret)

    def __repr__(self) -> str:
        return f"Account(name={self.name!r}, token={self.token_hint!r})"


_COLUMNS = "name, token, token_hint, signing_secret, monday_account_id, created_at, api_url"


class AccountStore:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    def _account(self, row: tuple) -> Account:
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
        name, token = name.strip(), token.strip()
        if not name:
            raise ValueError("the account name is empty")
        if not token:
            raise ValueError("the token is empty")
        secret = signing_secret.strip() if signing_secret and signing_secret.strip() else None
        url = None if api_url is None else check_api_url(api_url)
        with self.db.connection() as conn:
            existed = conn.scalar("SELECT 1 FROM monday_accounts WHERE name = ?", (name,))
            conn.execute(
                f"INSERT INTO monday_accounts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET token = excluded.token, token_hint = excluded.token_hint,"
                " signing_secret = excluded.signing_secret, monday_account_id = excluded.monday_account_id,"
                " api_url = COALESCE(excluded.api_url, monday_accounts.api_url)",
                (name, self.box.seal(token), mask(token), None if secret is None else self.box.seal(secret),
                 monday_account_id, time.time(), url),
            )  # fmt: skip
        return existed is None

    def get(self, name: str) -> Account | None:
        with self.db.connection() as conn:
            row = conn.fetchone(f"SELECT {_COLUMNS} FROM monday_accounts WHERE name = ?", (name,))
        return None if row is None else self._account(tuple(row))

    def all(self) -> list[Account]:
        with self.db.connection() as conn:
            rows = conn.fetchall(f"SELECT {_COLUMNS} FROM monday_accounts ORDER BY name")
        return [self._account(tuple(r)) for r in rows]

    def set_api_url(self, name: str, api_url: str) -> bool:
        """Point an account at another API URL (every process uses it from its next call); False: no
        such account. ValueError when the URL is not one."""
        url = check_api_url(api_url)
        with self.db.connection() as conn:
            return bool(conn.execute("UPDATE monday_accounts SET api_url = ? WHERE name = ?", (url, name)).rowcount)

    def remove(self, name: str) -> bool:
        with self.db.connection() as conn:
            return bool(conn.execute("DELETE FROM monday_accounts WHERE name = ?", (name,)).rowcount)


MISS_RELOAD_SECONDS = 0.25


@dataclass(frozen=True)
class Receiving:
    """What the receiver needs of an account: its name and its signing secret, opened once per reload."""

    name: str
    signing_secret: str | None
    secret_unreadable: bool = False  # set but cannot be opened (HOOKLINE_SECRET_KEY is wrong or missing)


class AccountCache:
    """Accounts in memory for the hot path, reloaded at most every `ttl` seconds (and on a miss, at
    most every MISS_RELOAD_SECONDS, so an account added a moment ago works at once)."""

    def __init__(self, db: Database, ttl: float, box: SecretBox) -> None:
        self.db = db
        self.ttl = ttl
        self.box = box
        self._accounts: dict[str, Receiving] = {}
        self._loaded_at = float("-inf")
        self._unreadable: frozenset[str] = frozenset()

    def expire(self) -> None:
        """Reload at the next request (an install or uninstall just changed what is accepted)."""
        self._loaded_at = float("-inf")

    def reload(self) -> None:
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
        self._loaded_at = time.monotonic()

    def _fresh(self, missed: bool) -> None:
        age = time.monotonic() - self._loaded_at
        if age > self.ttl or (missed and age > MISS_RELOAD_SECONDS):
            self.reload()

    def get(self, name: str) -> Receiving | None:
        self._fresh(False)
        if name not in self._accounts:
            self._fresh(True)
        return self._accounts.get(name)

    def only(self) -> list[Receiving]:
        """Every account (the receiver falls back to the only one)."""
        self._fresh(False)
        if not self._accounts:
            self._fresh(True)
        return list(self._accounts.values())
