"""The event log: append (deduplicated), list and read events."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hookline.store.engine import Connection
from hookline.types import AppendResult, IncomingEvent

# One statement for both engines: a repeat of a known dedup key only bumps its counter.
_APPEND = (
    "INSERT INTO events (provider, account, event, resource, resource_id, occurred_at, received_at,"
    " dedup_key, duplicate_count, last_seen_at, known, origin, headers, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)"
    " ON CONFLICT (provider, account, dedup_key) DO UPDATE"
    " SET duplicate_count = events.duplicate_count + 1, last_seen_at = excluded.last_seen_at"
    " RETURNING id, duplicate_count"
)


def _row(ev: IncomingEvent) -> tuple[Any, ...]:
    return (
        ev.provider,
        ev.account,
        ev.event,
        ev.resource,
        ev.resource_id,
        ev.occurred_at,
        ev.received_at,
        ev.dedup_key,
        ev.received_at,
        ev.known,
        ev.origin,
        json.dumps(ev.headers, separators=(",", ":")),
        ev.body,
    )


BatchHook = Callable[[Connection, list[IncomingEvent], list[AppendResult]], None]


def append_batch(conn: Connection, events: list[IncomingEvent], hooks: Sequence[BatchHook] = ()) -> list[AppendResult]:
    """Append events in ONE transaction; the caller may acknowledge them only after this returns.

    `hooks` run inside the same transaction (e.g. to enqueue work for new events), so what they
    write commits or rolls back together with the events.
    """
    results: list[AppendResult] = []
    with conn.transaction():
        if conn.dialect == "postgresql":
            # executemany with returning pipelines the statements: one round trip per batch.
            cur = conn.raw.cursor()
            cur.executemany(_APPEND.replace("?", "%s"), [_row(e) for e in events], returning=True)
            while True:
                row = cur.fetchone()
                results.append(AppendResult(int(row[0]), row[1] > 0))
                if not cur.nextset():
                    break
        else:
            execute = conn.raw.execute
            for e in events:
                row = execute(_APPEND, _row(e)).fetchone()
                results.append(AppendResult(int(row[0]), row[1] > 0))
        new = sum(1 for r in results if not r.duplicate)
        add_to_counts(conn, new, len(results) - new)
        for hook in hooks:
            hook(conn, events, results)
    return results


# The event_counts row this process adds to (several processes may share one: only contention).
_SLOT = os.getpid() % 16
_COUNT = (
    "INSERT INTO event_counts (slot, received, duplicates) VALUES (?, ?, ?) ON CONFLICT (slot) DO UPDATE"
    " SET received = event_counts.received + excluded.received,"
    " duplicates = event_counts.duplicates + excluded.duplicates"
)


def add_to_counts(conn: Connection, received: int, duplicates: int = 0) -> None:
    """Count events taken in (append_batch, `hookline import events`), in the caller's transaction."""
    conn.execute(_COUNT, (_SLOT, received, duplicates))


def counts(conn: Connection) -> tuple[int, int]:
    """Events appended and duplicates received, ever: kept by append_batch, not counted in the log."""
    received, duplicates = conn.fetchone(
        "SELECT COALESCE(sum(received), 0), COALESCE(sum(duplicates), 0) FROM event_counts")
    return int(received), int(duplicates)


@dataclass(frozen=True)
class EventFilter:
    provider: str | None = None
    event: str | None = None
    account: str | None = None
    since: float | None = None  # received_at >= since
    before_id: int | None = None  # cursor: ids strictly below this


_META = (
    "id, provider, account, event, resource, resource_id, occurred_at, received_at,"
    " dedup_key, duplicate_count, last_seen_at, known, origin, headers"
)


def _meta(row: Sequence[Any]) -> dict[str, Any]:
    keys = [k.strip() for k in _META.split(",")]
    out = dict(zip(keys, row, strict=True))
    out["known"] = bool(out["known"])
    out["headers"] = json.loads(out["headers"])
    return out


def list_events(conn: Connection, flt: EventFilter, limit: int) -> list[dict[str, Any]]:
    """Newest first, metadata only."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("provider", flt.provider), ("event", flt.event), ("account", flt.account)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if flt.since is not None:
        where.append("received_at >= ?")
        params.append(flt.since)
    if flt.before_id is not None:
        where.append("id < ?")
        params.append(flt.before_id)
    sql = f"SELECT {_META} FROM events"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    return [_meta(r) for r in conn.fetchall(sql, params)]


def get_event(conn: Connection, event_id: int) -> tuple[dict[str, Any], bytes] | None:
    row = conn.fetchone(f"SELECT {_META}, body FROM events WHERE id = ?", (event_id,))
    if row is None:
        return None
    return _meta(row[:-1]), bytes(row[-1])


def count_events(conn: Connection) -> int:
    return int(conn.scalar("SELECT count(*) FROM events"))


def last_received(conn: Connection, provider: str, account: str, origin: str = "webhook") -> float | None:
    """When the newest event of this origin (default: a webhook, not a backfill) of the account arrived."""
    value = conn.scalar(
        "SELECT received_at FROM events WHERE provider = ? AND account = ? AND origin = ? ORDER BY id DESC LIMIT 1",
        (provider, account, origin),
    )
    return None if value is None else float(value)
