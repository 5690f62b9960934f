"""The `deliveries` table from the user's side: create, list, retry.

The dispatcher's side (claims, outcomes, leases) is in claims.py.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hookline.forwarding.destinations import notify
from hookline.forwarding.signing import new_webhook_id
from hookline.store.engine import Connection, Database

STATES = ("pending", "retrying", "succeeded", "dead")
# "failed" is a filter, not a state: the last attempt failed (still retrying, or dead).
FILTERS = {**{s: (s,) for s in STATES}, "failed": ("retrying", "dead"), "open": ("pending", "retrying")}

_INSERT = (
    "INSERT INTO deliveries (destination_id, event_id, webhook_id, origin, state, ordering_key, occurred_at,"
    " created_at, started_at, next_attempt_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class NewDelivery:
    destination_id: int
    event_id: int
    origin: str
    ordering_key: str | None
    occurred_at: float
    now: float

    def params(self) -> tuple[Any, ...]:
        return (
            self.destination_id,
            self.event_id,
            new_webhook_id(),
            self.origin,
            self.ordering_key,
            self.occurred_at,
            self.now,
            self.now,
            self.now,
        )


def insert(conn: Connection, rows: Sequence[NewDelivery]) -> None:
    """Many rows in one statement batch (pipelined on PostgreSQL)."""
    params = [r.params() for r in rows]
    if conn.dialect == "postgresql":
        conn.raw.cursor().executemany(_INSERT.replace("?", "%s"), params)
    else:
        conn.raw.executemany(_INSERT, params)


_LIST = (
    "SELECT d.id, t.name, d.event_id, e.provider, e.account, e.event, d.webhook_id, d.origin, d.state,"
    " d.attempts, d.created_at, d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error,"
    " d.delivered_at"
    " FROM deliveries d JOIN destinations t ON t.id = d.destination_id JOIN events e ON e.id = d.event_id"
)
_LIST_KEYS = [
    *("id", "destination", "event_id", "provider", "account", "event", "webhook_id", "origin", "state"),
    *("attempts", "created_at", "next_attempt_at", "last_attempt_at", "last_status", "last_error", "delivered_at"),
]


def _as_dict(row: Sequence[Any]) -> dict[str, Any]:
    out = dict(zip(_LIST_KEYS, row, strict=True))
    if out["state"] not in ("pending", "retrying"):
        out["next_attempt_at"] = None
    return out


def list_deliveries(
    db: Database,
    states: Sequence[str] = (),
    destination: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[dict[str, Any]]:
    """Newest first."""
    where: list[str] = []
    params: list[Any] = []
    if states:
        where.append(f"d.state IN ({', '.join('?' for _ in states)})")
        params.extend(states)
    if destination is not None:
        where.append("t.name = ?")
        params.append(destination)
    if before_id is not None:
        where.append("d.id < ?")
        params.append(before_id)
    sql = _LIST + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY d.id DESC LIMIT ?"
    params.append(limit)
    with db.connection() as conn:
        return [_as_dict(r) for r in conn.fetchall(sql, params)]


def get_delivery(db: Database, delivery_id: int) -> dict[str, Any] | None:
    with db.connection() as conn:
        row = conn.fetchone(_LIST + " WHERE d.id = ?", (delivery_id,))
    return None if row is None else _as_dict(row)


class RetryRefused(ValueError):
    pass


# A manual retry starts a fresh budget: attempts and age count again from now.
_RETRY = (
    "UPDATE deliveries SET state = 'pending', attempts = 0, started_at = ?, next_attempt_at = ?,"
    " lease_owner = NULL, lease_expires_at = NULL"
)


def retry(db: Database, delivery_id: int) -> dict[str, Any]:
    """Send a failed (dead or retrying) delivery again now; RetryRefused names why not."""
    now = time.time()
    with db.connection() as conn, conn.transaction():
        state = conn.scalar("SELECT state FROM deliveries WHERE id = ?", (delivery_id,))
        if state is None:
            raise LookupError(f"no delivery {delivery_id}")
        if state == "succeeded":
            raise RetryRefused(f"delivery {delivery_id} succeeded already; `hookline events replay` sends events again")
        conn.execute(_RETRY + " WHERE id = ?", (now, now, delivery_id))
        notify(conn)
    found = get_delivery(db, delivery_id)
    assert found is not None
    return found


def retry_all_failed(db: Database, destination: str | None = None) -> int:
    now = time.time()
    sql = _RETRY + " WHERE state IN ('retrying', 'dead')"
    params: list[Any] = [now, now]
    if destination is not None:
        sql += " AND destination_id = (SELECT id FROM destinations WHERE name = ?)"
        params.append(destination)
    with db.connection() as conn, conn.transaction():
        n = int(conn.execute(sql, params).rowcount)
        notify(conn)
    return n


def counts_by_state(db: Database) -> dict[str, dict[str, int]]:
    """{destination name: {state: count}} of unfinished and dead deliveries (succeeded ones are not counted:
    that would scan the whole history)."""
    out: dict[str, dict[str, int]] = {}
    with db.connection() as conn:
        for name, state, n in conn.fetchall(
            "SELECT t.name, d.state, count(*) FROM deliveries d JOIN destinations t ON t.id = d.destination_id"
            " WHERE d.state <> 'succeeded' GROUP BY t.name, d.state"
        ):
            out.setdefault(name, {})[state] = int(n)
    return out
