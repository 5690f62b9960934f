"""The event log: append (deduplicated), list and read events."""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hookline.store import partitions
from hookline.store.engine import Connection
from hookline.store.queries import Query, compose, load_queries, marks
from hookline.types import AppendResult, IncomingEvent

Q = load_queries(__package__)


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
    written: tuple[int, int] | None = None
    with conn.transaction():
        # One round trip per batch on PostgreSQL (pipelined), one statement per event on SQLite.
        rows = conn.fetch_each(Q.append_event, [_row(e) for e in events])
        results = [AppendResult(int(row[0]), row[1] > 0) for row in rows]
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


def add_to_counts(conn: Connection, received: int, duplicates: int = 0) -> None:
    """Count events taken in (append_batch, `hookline import events`), in the caller's transaction."""
    conn.execute(Q.add_to_counts, (_SLOT, received, duplicates))


def counts(conn: Connection) -> tuple[int, int]:
    """Events appended and duplicates received, ever: kept by append_batch, not counted in the log
    (with what this process committed and holds for a later write: _Pending)."""
    received, duplicates = conn.fetchone(Q.event_counts)
    held = _pending(conn).snapshot()
    return int(received) + held[0], int(duplicates) + held[1]


@dataclass(frozen=True)
class AccountScope:
    """`?account=NAME` of the listings: that account of any of `providers` (the registered ones, so the
    filter runs through events_account (provider, account, id) instead of walking the whole log)."""

    providers: tuple[str, ...]
    account: str

    def clause(self, conn: Connection, column: Query) -> tuple[list[Any], list[Any]]:
        """(parts for compose, parameters): `column` (a caller's clause naming its column of event ids)
        among this account's events."""
        return [column, Q.of_account_clause], [conn.array(self.providers), self.account]


def account_counts(conn: Connection, scope: AccountScope) -> tuple[int, int]:
    """(events, duplicates) of one account, counted through its index (event_counts has no account)."""
    received, duplicates = conn.fetchone(Q.account_event_counts, (conn.array(scope.providers), scope.account))
    return int(received), int(duplicates)


@dataclass(frozen=True)
class EventFilter:
    provider: str | None = None
    event: str | None = None
    account: str | None = None
    since: float | None = None  # received_at >= since
    before_id: int | None = None  # cursor: ids strictly below this


# The columns of list_events_fragment and get_event (without body), in their order.
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
    parts: list[Any] = [Q.list_events_fragment]
    params: list[Any] = []
    for clause, value in (
        (Q.event_provider_clause, flt.provider),
        (Q.event_event_clause, flt.event),
        (Q.event_account_clause, flt.account),
        (Q.event_since_clause, flt.since),
        (Q.event_before_clause, flt.before_id),
    ):
        if value is not None:
            parts += ["WHERE" if not params else "AND", clause]
            params.append(value)
    params.append(limit)
    return [_meta(r) for r in conn.fetchall(compose(*parts, Q.list_events_order_clause), params)]


def get_event(conn: Connection, event_id: int) -> tuple[dict[str, Any], bytes] | None:
    row = conn.fetchone(Q.get_event, (event_id,))
    if row is None:
        return None
    return _meta(row[:-1]), bytes(row[-1])


def count_events(conn: Connection) -> int:
    return int(conn.scalar(Q.count_events))


def last_received(conn: Connection, provider: str, account: str, origin: str = "webhook") -> float | None:
    """When the newest event of this origin (default: a webhook, not a backfill) of the account arrived."""
    value = conn.scalar(Q.last_received, (provider, account, origin))
    return None if value is None else float(value)


def last_received_of(
    conn: Connection, pairs: Sequence[tuple[str, str]], origin: str = "webhook"
) -> dict[tuple[str, str], float]:
    """last_received of each (provider, account) in one statement; accounts without such an event are left out."""
    if not pairs:
        return {}
    rows = conn.fetchall(Q.last_received_of, (origin, json.dumps([list(pair) for pair in pairs])))
    return {(str(p), str(a)): float(at) for p, a, at in rows if at is not None}


# --- What the pipeline and its readers take from the log ----------------------------------------


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as the log holds it."""

    id: int
    provider: str
    account: str
    event: str
    origin: str
    occurred_at: float | None
    received_at: float
    body: bytes


def _stored(row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(
        int(row[0]), row[1], row[2], row[3], row[4],
        None if row[5] is None else float(row[5]), float(row[6]), bytes(row[7]),
    )


def load_events(conn: Connection, ids: Sequence[int]) -> list[StoredEvent]:
    """The given events, in id order (missing ids are skipped)."""
    if not ids:
        return []
    return [_stored(r) for r in conn.fetchall(Q.stored_events, (conn.array(ids),))]


def page_events(conn: Connection, providers: Iterable[str], after_id: int, limit: int) -> list[StoredEvent]:
    """Events of these providers with id > after_id, oldest first (for replays)."""
    rows = conn.fetchall(Q.page_stored_events, (conn.array(list(providers)), after_id, limit))
    return [_stored(r) for r in rows]


def count_provider_events(conn: Connection, providers: Sequence[str]) -> int:
    """How many events of these providers the log holds."""
    return int(conn.scalar(Q.count_provider_events, (conn.array(providers),)))


def oldest_received(conn: Connection) -> float | None:
    """When the oldest event the log still holds arrived (retention deletes older ones)."""
    value = conn.scalar(Q.oldest_received)
    return None if value is None else float(value)


def event_time(conn: Connection, event_id: int) -> float | None:
    """When an event happened (or arrived, when it does not say); None for an unknown id."""
    value = conn.scalar(Q.event_time, (event_id,))
    return None if value is None else float(value)


def event_heads(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
    """(provider, account, event) of each of these events that the log holds, by id."""
    if not ids:
        return {}
    rows = conn.fetchall(Q.event_heads, (conn.array(sorted(set(ids))),))
    return {int(r[0]): (r[1], r[2], r[3]) for r in rows}


def _until(until: float | None) -> float:
    return math.inf if until is None else until


def count_received_between(conn: Connection, since: float, until: float | None = None) -> int:
    """Events received in [since, until) (no end: until None)."""
    return int(conn.scalar(Q.count_received_between, (since, _until(until))))


def page_received_between(
    conn: Connection, since: float, until: float | None, after_id: int, limit: int
) -> list[tuple[Any, ...]]:
    """(id, provider, account, event, resource, resource_id, occurred_at, received_at) of events received in
    [since, until) with id > after_id, oldest first."""
    return [tuple(r) for r in conn.fetchall(Q.page_received_between, (since, _until(until), after_id, limit))]


def insert_exported(conn: Connection, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Events from an export, with their ids (`names`: the events table's columns, the id first; rows sorted
    by id); one already stored is kept. Returns how many were new."""
    if not rows:
        return 0
    span = (rows[0][0], rows[-1][0])
    before = int(conn.scalar(Q.count_event_ids_between, span))
    if partitions.partitioned(conn):  # the keys first: they decide which events are new (store/partitions.py)
        at = [names.index(c) for c in ("id", "provider", "account", "dedup_key", "received_at")]
        new = partitions.import_keys(conn, [tuple(r[i] for i in at) for r in rows])
        rows = [r for r in rows if r[0] in new]
        if not rows:
            return 0
    values = f"({', '.join(names)}) VALUES ({marks(len(names))})"
    conn.executemany(compose(Q.import_events_fragment, values, Q.import_events_tail_clause), rows)
    return int(conn.scalar(Q.count_event_ids_between, span)) - before


def follow_imported_ids(conn: Connection) -> None:
    """New events get ids above every imported one (PostgreSQL's identity does not follow explicit ids)."""
    conn.execute(Q.follow_imported_ids)


def timestamp_of(ev: StoredEvent) -> float:
    """The time rules see as an event's `timestamp`: when it happened, else when it was received."""
    return ev.occurred_at if ev.occurred_at is not None else ev.received_at


def page_by_time(
    conn: Connection, after: tuple[float, int], until: float | None, limit: int
) -> list[StoredEvent]:
    """Events in (timestamp_of, id) order after `after`, up to `until` (the backtest of rules)."""
    at, event_id = after
    if until is None:
        rows = conn.fetchall(Q.page_by_time, (at, at, event_id, limit))
    else:
        rows = conn.fetchall(Q.page_by_time_until, (at, at, event_id, until, limit))
    return [_stored(r) for r in rows]
