"""Aircall accounts: a name and the API credentials hookline uses for it.

The secret (API token or OAuth token) is sealed by the SecretBox before it is stored and opened only
to build Credentials, whose repr never shows it. Listings carry the masked API ID, never the secret.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hookline.providers.api_urls import check_api_url
from hookline.secretbox import SecretBox, SecretBoxError
from hookline.store.engine import Database
from hookline.store.queries import load_queries

if TYPE_CHECKING:
    from hookline.providers.aircall.api import Credentials

Q = load_queries(__package__)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class AccountError(Exception):
    """A clear message about accounts (unknown name, bad input). Never holds a secret."""


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise AccountError(
            f"invalid account name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def _checked_url(url: str) -> str:
    try:
        return check_api_url(url)
    except ValueError as exc:
        raise AccountError(str(exc)) from None


def mask_id(api_id: str | None) -> str | None:
    if not api_id:
        return None
    return f"{api_id[:4]}…" if len(api_id) > 6 else "…"


@dataclass(frozen=True)
class Account:
    """An account as listings show it: nothing secret."""

    name: str
    scheme: str  # "basic" or "oauth"
    api_id_hint: str | None
    encrypted: bool
    created_at: float
    updated_at: float
    api_url: str | None = None  # None: added before URLs were stored; follows HOOKLINE_AIRCALL_API_URL
    installed: bool = True  # False: uninstalled through OAuth (its loops skip it, its data stays)


class AccountStore:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    def add(
        self,
        name: str,
        *,
        api_id: str | None = None,
        api_token: str | None = None,
        oauth_token: str | None = None,
        replace: bool = False,
        api_url: str | None = None,
        default_api_url: str | None = None,
    ) -> bool:
        """Store an account; returns False when it replaced an existing one (only with replace=True).

        The API URL is `api_url` when given; otherwise a new account records `default_api_url` (the
        setting at add time) and a replaced one keeps its own."""
        from hookline.providers.aircall.api import Credentials

        name = check_name(name)
        url = _checked_url(api_url) if api_url is not None else None
        default = _checked_url(default_api_url) if default_api_url is not None else None
        try:
            creds = Credentials(api_id, api_token, oauth_token=oauth_token, account=name)
        except ValueError as exc:
            raise AccountError(str(exc)) from None
        secret = oauth_token if creds.scheme == "oauth" else api_token
        assert secret is not None
        if not secret.strip() or (api_id is not None and not api_id.strip()):
            raise AccountError("credentials must not be blank")
        sealed = self.box.seal(secret.strip())
        now = time.time()
        with self.db.connection() as conn, conn.transaction():
            exists = conn.scalar(Q.account_known, (name,)) is not None
            if exists and not replace:
                raise AccountError(f"account {name!r} exists already: remove it first, or add it with --replace")
            conn.execute(
                Q.save_account,
                (name, creds.scheme, api_id.strip() if api_id else None, sealed, now, now, url or default, url),
            )
        return not exists

    def set_api_url(self, name: str, api_url: str) -> None:
        """Point an account at another API base URL (every process uses it from its next call)."""
        url = _checked_url(api_url)
        with self.db.connection() as conn:
            changed = conn.execute(Q.set_account_api_url, (url, time.time(), name)).rowcount
        if not changed:
            raise AccountError(f"no Aircall account named {name!r}")

    def api_url(self, name: str) -> str | None:
        """The account's own API base URL; None when it has none (it follows the setting)."""
        with self.db.connection() as conn:
            value = conn.scalar(Q.account_api_url, (name,))
        return str(value) if value else None

    def remove(self, name: str) -> bool:
        """Forget the account and, if it came from an OAuth install, that installation (a later install
        of the company creates the account afresh)."""
        with self.db.connection() as conn, conn.transaction():
            conn.execute(Q.forget_account_installation, (name,))
            return bool(conn.execute(Q.remove_account, (name,)).rowcount)

    def all(self) -> list[Account]:
        with self.db.connection() as conn:
            rows = conn.fetchall(Q.accounts)
        return [
            Account(n, s, mask_id(i), SecretBox.is_encrypted(sec), c, u, url, bool(inst))
            for n, s, i, sec, c, u, url, inst in rows
        ]

    def active_names(self) -> list[str]:
        """Accounts the loops (watchdog, backfills) work for: not the uninstalled ones."""
        return [a.name for a in self.all() if a.installed]

    def names(self) -> list[str]:
        return [a.name for a in self.all()]

    def resolve(self, name: str | None) -> str:
        """The named account, or the only one when no name is given."""
        names = self.names()
        if name is None:
            if len(names) == 1:
                return names[0]
            if not names:
                raise AccountError(
                    "no Aircall account yet: `hookline aircall account add NAME --api-id ... --api-token ...`"
                )
            raise AccountError(f"{len(names)} accounts exist ({', '.join(names)}): choose one with --account")
        if name not in names:
            raise AccountError(f"no Aircall account named {name!r} (known: {', '.join(names) or 'none'})")
        return name

    def credentials(self, name: str) -> Credentials:
        with self.db.connection() as conn:
            row = conn.fetchone(Q.account_credentials, (name,))
        if row is None:
            raise AccountError(f"no Aircall account named {name!r}")
        scheme, api_id, sealed = row
        from hookline.providers.aircall.api import Credentials

        try:
            secret = self.box.open(sealed)
        except SecretBoxError as exc:
            raise AccountError(f"cannot read the credentials of account {name!r}: {exc}") from None
        if scheme == "oauth":
            return Credentials.oauth(secret, account=name)
        return Credentials.basic(api_id, secret, account=name)
