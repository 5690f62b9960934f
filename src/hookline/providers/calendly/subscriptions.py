"""The webhook subscriptions hookline created (and so may recreate): what to ask Calendly for again."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from hookline.store.engine import Database
from hookline.store.queries import load_queries

Q = load_queries(__package__)


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
                Q.add_subscription,
                (uri, account, callback_url, json.dumps(events), scope, key_id, state, time.time(), backfill_since),
            )

    def all(self, account: str | None = None) -> list[Managed]:
        with self.db.connection() as conn:
            if account is None:
                rows = conn.fetchall(Q.subscriptions)
            else:
                rows = conn.fetchall(Q.subscriptions_of_account, (account,))
        return [_managed(r) for r in rows]

    def find(self, uri_or_uuid: str) -> Managed | None:
        wanted = uuid_of(uri_or_uuid)
        for m in self.all():
            if m.uuid == wanted:
                return m
        return None

    def mark(self, uri: str, state: str) -> None:
        with self.db.connection() as conn:
            conn.execute(Q.mark_subscription, (state, time.time(), uri))

    def backfilled(self, uri: str) -> None:
        with self.db.connection() as conn:
            conn.execute(Q.subscription_backfilled, (uri,))

    def remove(self, uri: str) -> bool:
        with self.db.connection() as conn:
            return bool(conn.execute(Q.remove_subscription, (uri,)).rowcount)
