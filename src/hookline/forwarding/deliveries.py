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
from hookline.store.events import AccountScope, event_heads
from hookline.store.queries import compose, load_queries

STATES = ("pending", "retrying", "succeeded", "dead")
# "failed" is a filter, not a state: the last attempt failed (still retrying, or dead).
FILTERS = {**{s: (s,) for s in STATES}, "failed": ("retrying", "dead"), "open": ("pending", "retrying")}

Q = load_queries(__package__)


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
    conn.executemany(Q.insert_delivery, [r.params() for r in rows])


_LIST_KEYS = [
    *("id", "destination", "event_id", "provider", "account", "event", "webhook_id", "origin", "state"),
    *("attempts", "created_at", "next_attempt_at", "last_attempt_at", "last_status", "last_error", "delivered_at"),
]


def _as_dicts(conn: Connection, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """list_deliveries_fragment rows with their event's provider, account and name (store/events.py);
    a delivery whose event the log no longer holds is left out (as a join would)."""
    heads = event_heads(conn, [int(r[2]) for r in rows])
    found = []
    for row in rows:
        head = heads.get(int(row[2]))
        if head is None:
            continue
        out = dict(zip(_LIST_KEYS, (*row[:3], *head, *row[3:]), strict=True))
        if out["state"] not in ("pending", "retrying"):
            out["next_attempt_at"] = None
        found.append(out)
    return found


def list_deliveries(
    db: Database,
    states: Sequence[str] = (),
    destination: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
    account: AccountScope | None = None,
) -> list[dict[str, Any]]:
    """Newest first; `account`: the deliveries of that account's events."""
    with db.connection() as conn:
        parts: list[Any] = [Q.list_deliveries_fragment]
        params: list[Any] = []
        for clause, value in (
            (Q.delivery_states_clause, conn.array(states) if states else None),
            (Q.delivery_destination_clause, destination),
            (Q.delivery_before_clause, before_id),
        ):
            if value is not None:
                parts += ["WHERE" if not params else "AND", clause]
                params.append(value)
        if account is not None:
            more, values = account.clause(conn, Q.delivery_event_clause)
            parts += ["WHERE" if not params else "AND", *more]
            params += values
        params.append(limit)
        return _as_dicts(conn, conn.fetchall(compose(*parts, Q.list_deliveries_order_clause), params))


def get_delivery(db: Database, delivery_id: int) -> dict[str, Any] | None:
    with db.connection() as conn:
        row = conn.fetchone(compose(Q.list_deliveries_fragment, "WHERE", Q.delivery_id_clause), (delivery_id,))
        found = [] if row is None else _as_dicts(conn, [row])
    return found[0] if found else None


class RetryRefused(ValueError):
    pass


def retry(db: Database, delivery_id: int) -> dict[str, Any]:
    """Send a failed (dead or retrying) delivery again now; RetryRefused names why not."""
    now = time.time()
    with db.connection() as conn, conn.transaction():
        state = conn.scalar(Q.delivery_state, (delivery_id,))
        if state is None:
            raise LookupError(f"no delivery {delivery_id}")
        if state == "succeeded":
            raise RetryRefused(f"delivery {delivery_id} succeeded already; `hookline events replay` sends events again")
        conn.execute(Q.retry_delivery, (now, now, delivery_id))
        notify(conn)
    found = get_delivery(db, delivery_id)
    assert found is not None
    return found


def retry_all_failed(db: Database, destination: str | None = None) -> int:
    now = time.time()
    with db.connection() as conn, conn.transaction():
        if destination is None:
            n = int(conn.execute(Q.retry_failed_deliveries, (now, now)).rowcount)
        else:
            n = int(conn.execute(Q.retry_failed_deliveries_of, (now, now, destination)).rowcount)
        notify(conn)
    return n


def counts_by_state(db: Database) -> dict[str, dict[str, int]]:
    """{destination name: {state: count}} of unfinished and dead deliveries (succeeded ones are not counted:
    that would scan the whole history)."""
    out: dict[str, dict[str, int]] = {}
    with db.connection() as conn:
        for name, state, n in conn.fetchall(Q.count_deliveries_by_state):
            out.setdefault(name, {})[state] = int(n)
    return out
