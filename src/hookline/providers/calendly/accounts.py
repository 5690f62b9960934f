"""Calendly accounts: a name, the API token (personal access token or OAuth bearer) and the user and
organization URIs that `GET /users/me` answered for it.

The token is sealed by the SecretBox before it is stored, and opened only when the API is called
(`Account.token`); listings show `token_hint`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from hookline.config import Settings
from hookline.providers.api_urls import check_api_url
from hookline.providers.calendly.masking import mask
from hookline.secretbox import SecretBox
from hookline.store.engine import Database


@dataclass(frozen=True)
class Account:
    name: str
    sealed_token: str
    token_hint: str
    user_uri: str | None
    organization_uri: str | None
    created_at: float
    box: SecretBox
    api_url: str | None = None  # None: added before URLs were stored; follows the setting

    @property
    def token(self) -> str:
        """The API token in clear; raises SecretBoxError when it cannot be opened."""
        return self.box.open(self.sealed_token)

    def __repr__(self) -> str:
        return f"Account(name={self.name!r}, token={self.token_hint!r})"


def box_for(settings: Settings) -> SecretBox:
    """The SecretBox of HOOKLINE_SECRET_KEY (no key: secrets are stored unencrypted, never shown)."""
    return SecretBox(settings.secret_key.get_secret_value() if settings.secret_key is not None else None)


_COLUMNS = "name, token, token_hint, user_uri, organization_uri, created_at, api_url"


class AccountStore:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    def _account(self, row: tuple[Any, ...]) -> Account:
        name, sealed, hint, user, organization, created, api_url = row
        return Account(name, sealed, hint, user, organization, created, self.box, api_url)

    def add(
        self, name: str, token: str, user_uri: str | None, organization_uri: str | None, api_url: str | None = None
    ) -> bool:
        """Register or update an account; True when it is new. `api_url`: the URL its API calls go to
        (None keeps an existing account's)."""
        name, token = name.strip(), token.strip()
        if not name:
            raise ValueError("the account name is empty")
        if not token:
            raise ValueError("the token is empty")
        url = None if api_url is None else check_api_url(api_url)
        with self.db.connection() as conn:
            existed = conn.scalar("SELECT 1 FROM calendly_accounts WHERE name = ?", (name,))
            conn.execute(
                f"INSERT INTO calendly_accounts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET token = excluded.token,"
                " token_hint = excluded.token_hint, user_uri = excluded.user_uri,"
                " organization_uri = excluded.organization_uri,"
                " api_url = COALESCE(excluded.api_url, calendly_accounts.api_url)",
                (name, self.box.seal(token), mask(token), user_uri, organization_uri, time.time(), url),
            )
        return existed is None

    def get(self, name: str) -> Account | None:
        with self.db.connection() as conn:
            row = conn.fetchone(f"SELECT {_COLUMNS} FROM calendly_accounts WHERE name = ?", (name,))
        return None if row is None else self._account(tuple(row))

    def all(self) -> list[Account]:
        with self.db.connection() as conn:
            rows = conn.fetchall(f"SELECT {_COLUMNS} FROM calendly_accounts ORDER BY name")
        return [self._account(tuple(r)) for r in rows]

    def set_api_url(self, name: str, api_url: str) -> bool:
        """Point an account at another API URL (every process uses it from its next call); False: no
        such account. ValueError when the URL is not one."""
        url = check_api_url(api_url)
        with self.db.connection() as conn:
            return bool(conn.execute("UPDATE calendly_accounts SET api_url = ? WHERE name = ?", (url, name)).rowcount)

    def remove(self, name: str) -> bool:
        with self.db.connection() as conn:
            return bool(conn.execute("DELETE FROM calendly_accounts WHERE name = ?", (name,)).rowcount)
