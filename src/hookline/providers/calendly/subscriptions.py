"""The webhook subscriptions hookline created (and so may recreate): what to ask Calendly for again."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from hookline.store.engine import Database


@dataclass(frozen=True)
class Managed:
    uri: str
    account: str
    callback_url: str
    events: list[str]
    scope: str
    key_id: int | None
    state: str
    created_at: float
    checked_at: float | None
    backfill_since: float | None = None

    @property
    def uuid(self) -> str:
        return uuid_of(self.uri)


def uuid_of(uri_or_uuid: str) -> str:
    """The last path segment of a Calendly resource URI (or the argument, when it is already a uuid)."""
    return uri_or_uuid.rstrip("/").rsplit("/", 1)[-1]


_COLUMNS = "uri, account, callback_url, events, scope, key_id, state, created_at, checked_at, backfill_since"


def _managed(row: tuple[Any, ...]) -> Managed:
    values = list(row)
    values[3] = json.loads(values[3])
    return Managed(*values)


class SubscriptionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        uri: str,
        account: str,
        callback_url: str,
        events: list[str],
        scope: str,
        key_id: int | None,
        state: str = "active",
        backfill_since: float | None = None,
    ) -> None:
        with self.db.connection() as conn:
            conn.execute(
                f"INSERT INTO calendly_subscriptions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)"
                " ON CONFLICT (uri) DO UPDATE SET state = excluded.state, key_id = excluded.key_id",
                (uri, account, callback_url, json.dumps(events), scope, key_id, state, time.time(), backfill_since),
            )

    def all(self, account: str | None = None) -> list[Managed]:
        sql = f"SELECT {_COLUMNS} FROM calendly_subscriptions"
        params: tuple[str, ...] = ()
        if account is not None:
            sql += " WHERE account = ?"
            params = (account,)
        with self.db.connection() as conn:
            return [_managed(r) for r in conn.fetchall(sql + " ORDER BY account, created_at", params)]

    def find(self, uri_or_uuid: str) -> Managed | None:
        wanted = uuid_of(uri_or_uuid)
        for m in self.all():
            if m.uuid == wanted:
                return m
        return None

    def mark(self, uri: str, state: str) -> None:
        with self.db.connection() as conn:
            conn.execute(
                "UPDATE calendly_subscriptions SET state = ?, checked_at = ? WHERE uri = ?", (state, time.time(), uri)
            )

    def backfilled(self, uri: str) -> None:
        with self.db.connection() as conn:
            conn.execute("UPDATE calendly_subscriptions SET backfill_since = NULL WHERE uri = ?", (uri,))

    def remove(self, uri: str) -> bool:
        with self.db.connection() as conn:
            return bool(conn.execute("DELETE FROM calendly_subscriptions WHERE uri = ?", (uri,)).rowcount)
