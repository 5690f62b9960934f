"""monday.com accounts: a name, the API token and, for webhooks created by an app, its signing secret.

Both are kept as given (hookline needs them in clear to call the API and to check JWTs); they are
never printed (only masked hints) nor logged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from hookline.store.engine import Database


def mask(secret: str) -> str:
    return f"{secret[:4]}…{secret[-4:]}" if len(secret) >= 16 else "…"


@dataclass(frozen=True)
class Account:
    name: str
    token: str
    signing_secret: str | None
    monday_account_id: str | None
    created_at: float


_COLUMNS = "name, token, signing_secret, monday_account_id, created_at"


class AccountStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, name: str, token: str, signing_secret: str | None, monday_account_id: str | None) -> bool:
        name, token = name.strip(), token.strip()
        if not name:
            raise ValueError("the account name is empty")
        if not token:
            raise ValueError("the token is empty")
        secret = signing_secret.strip() if signing_secret and signing_secret.strip() else None
        with self.db.connection() as conn:
            existed = conn.scalar("SELECT 1 FROM monday_accounts WHERE name = ?", (name,))
            conn.execute(
                f"INSERT INTO monday_accounts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET token = excluded.token, signing_secret = excluded.signing_secret,"
                " monday_account_id = excluded.monday_account_id",
                (name, token, secret, monday_account_id, time.time()),
            )
        return existed is None

    def get(self, name: str) -> Account | None:
        with self.db.connection() as conn:
            row = conn.fetchone(f"SELECT {_COLUMNS} FROM monday_accounts WHERE name = ?", (name,))
        return None if row is None else Account(*row)

    def all(self) -> list[Account]:
        with self.db.connection() as conn:
            return [Account(*r) for r in conn.fetchall(f"SELECT {_COLUMNS} FROM monday_accounts ORDER BY name")]

    def remove(self, name: str) -> bool:
        with self.db.connection() as conn:
            return bool(conn.execute("DELETE FROM monday_accounts WHERE name = ?", (name,)).rowcount)


MISS_RELOAD_SECONDS = 0.25


class AccountCache:
    """Accounts in memory for the hot path, reloaded at most every `ttl` seconds (and on a miss, at
    most every MISS_RELOAD_SECONDS, so an account added a moment ago works at once)."""

    def __init__(self, db: Database, ttl: float) -> None:
        self.db = db
        self.ttl = ttl
        self._accounts: dict[str, Account] = {}
        self._loaded_at = float("-inf")

    def reload(self) -> None:
        self._accounts = {a.name: a for a in AccountStore(self.db).all()}
        self._loaded_at = time.monotonic()

    def _fresh(self, missed: bool) -> None:
        age = time.monotonic() - self._loaded_at
        if age > self.ttl or (missed and age > MISS_RELOAD_SECONDS):
            self.reload()

    def get(self, name: str) -> Account | None:
        self._fresh(False)
        if name not in self._accounts:
            self._fresh(True)
        return self._accounts.get(name)

    def only(self) -> list[Account]:
        """Every account (the receiver falls back to the only one)."""
        self._fresh(False)
        if not self._accounts:
            self._fresh(True)
        return list(self._accounts.values())
