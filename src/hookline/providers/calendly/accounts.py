"""Calendly accounts: a name, the API token (personal access token or OAuth bearer) and the user and
organization URIs that `GET /users/me` answered for it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from hookline.providers.calendly.masking import mask
from hookline.store.engine import Database


@dataclass(frozen=True)
class Account:
    name: str
    token: str
    user_uri: str | None
    organization_uri: str | None
    created_at: float

    @property
    def token_hint(self) -> str:
        return mask(self.token)


class AccountStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, name: str, token: str, user_uri: str | None, organization_uri: str | None) -> bool:
        """Register or update an account; True when it is new."""
        name, token = name.strip(), token.strip()
        if not name:
            raise ValueError("the account name is empty")
        if not token:
            raise ValueError("the token is empty")
        with self.db.connection() as conn:
            existed = conn.scalar("SELECT 1 FROM calendly_accounts WHERE name = ?", (name,))
            conn.execute(
                "INSERT INTO calendly_accounts (name, token, token_hint, user_uri, organization_uri, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET token = excluded.token,"
                " token_hint = excluded.token_hint, user_uri = excluded.user_uri,"
                " organization_uri = excluded.organization_uri",
                (name, token, mask(token), user_uri, organization_uri, time.time()),
            )
        return existed is None

    def get(self, name: str) -> Account | None:
        with self.db.connection() as conn:
            row = conn.fetchone(
                "SELECT name, token, user_uri, organization_uri, created_at FROM calendly_accounts WHERE name = ?",
                (name,),
            )
        return None if row is None else Account(*row)

    def all(self) -> list[Account]:
        with self.db.connection() as conn:
            rows = conn.fetchall(
                "SELECT name, token, user_uri, organization_uri, created_at FROM calendly_accounts ORDER BY name"
            )
        return [Account(*r) for r in rows]

    def remove(self, name: str) -> bool:
        with self.db.connection() as conn:
            return bool(conn.execute("DELETE FROM calendly_accounts WHERE name = ?", (name,)).rowcount)
