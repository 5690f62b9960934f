"""The event log: append (deduplicated), list and read events."""

from __future__ import annotations

import json
import os
import threading
import time
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


def append_batch(
    conn: Connection, events: list[IncomingEvent], hooks: Sequence[BatchHook] = (), *, defer_counts: bool = False
) -> list[AppendResult]:
    """Append events in ONE transaction; the caller may acknowledge them only after this returns.

    `hooks` run inside the same transaction (e.g. to enqueue work for new events), so what they
    write commits or rolls back together with the events. `defer_counts` (the group committer): the
    batch's counts go to event_counts with a later batch, at most every COUNTS_EVERY seconds (see
    _Pending), instead of one more page written and fsynced by every commit.
    """
    results: list[AppendResult] = []
    written: tuple[int, int] | None = None
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
        pending = _pending(conn) if defer_counts else None
        if pending is None:
            add_to_counts(conn, new, len(results) - new)
        elif pending.due():
            written = pending.snapshot()
            add_to_counts(conn, written[0] + new, written[1] + len(results) - new)
        for hook in hooks:
            hook(conn, events, results)
    if pending is not None:  # committed: what was written leaves the pending counts, or this batch joins them
        pending.committed(written, new, len(results) - new)
    return results


# How often the group committer writes the counts it holds (at most: only with a batch to commit).
COUNTS_EVERY = 1.0


class _Pending:
    """Events and duplicates this process committed but has not added to event_counts yet.

    Measured (bench/commit_cost.py): the event_counts upsert is one more WAL page in each of the
    committer's commits (~12 pages for a one-event commit), paid for by its fsync. The committer
    now adds its counts at most every COUNTS_EVERY seconds, in the transaction of the batch at hand,
    and at stop (flush_counts). `counts()` adds what this process holds, so its /api/stats stays
    exact; a process killed (-9) loses up to COUNTS_EVERY seconds of counts (never events).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received = 0
        self.duplicates = 0
        self.written_at = time.monotonic()

    def due(self) -> bool:
        return time.monotonic() - self.written_at >= COUNTS_EVERY

    def snapshot(self) -> tuple[int, int]:
        with self.lock:
            return self.received, self.duplicates

    def committed(self, written: tuple[int, int] | None, received: int, duplicates: int) -> None:
        with self.lock:
            if written is None:
                self.received += received
                self.duplicates += duplicates
            else:
                self.received -= written[0]
                self.duplicates -= written[1]
                self.written_at = time.monotonic()


# One per database this process writes to (tests, and tools, may hold several).
_PENDING: dict[object, _Pending] = {}
_PENDING_GUARD = threading.Lock()


def _database_key(conn: Connection) -> object:
    """Which database `conn` is on: an SQLite file has one in-process write lock; PostgreSQL its DSN."""
    if conn.write_lock is not None:
        return ("sqlite", id(conn.write_lock))
    if conn.dialect == "postgresql":
        return ("postgresql", conn.raw.info.dsn)
    return ("connection", id(conn.raw))


def _pending(conn: Connection) -> _Pending:
    key = _database_key(conn)
    with _PENDING_GUARD:
        found = _PENDING.get(key)
        if found is None:
            found = _PENDING[key] = _Pending()
        return found


def flush_counts(conn: Connection) -> None:
    """Add the counts this process holds for conn's database to event_counts now (the committer, when it stops)."""
    pending = _pending(conn)
    written = pending.snapshot()
    if written == (0, 0):
        return
    with conn.transaction():
        add_to_counts(conn, *written)
    pending.committed(written, 0, 0)


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
    """Events appended and duplicates received, ever: kept by append_batch, not counted in the log
    (with what this process committed and holds for a later write: _Pending)."""
    received, duplicates = conn.fetchone(
        "SELECT COALESCE(sum(received), 0), COALESCE(sum(duplicates), 0) FROM event_counts")
    held = _pending(conn).snapshot()
    return int(received) + held[0], int(duplicates) + held[1]


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
