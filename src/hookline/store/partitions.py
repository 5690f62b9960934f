"""PostgreSQL's monthly partitions of the events table (store/partition_migrations/0001): which exist, the
next ones created ahead, and an expired month dropped once its keys are gone.

An event's key (event_keys: its id and dedup key, what deliveries and automation runs reference) and its
row (the month's partition of events) are written in one transaction. Retention drops a month in steps,
each safe to be interrupted: its done events' keys are deleted in short batches (their finished
deliveries and runs cascade), then, in one short transaction holding the events table, the partition is
dropped only when no key of that month is left. A crash between the steps leaves rows without keys:
expired events nothing references, which the next pass drops (or deletes row by row).

SQLite's log is one table: nothing here does anything there.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hookline.store.engine import Connection
from hookline.store.queries import Query, compose, load_queries
from hookline.store.tables import quote

Q = load_queries(__package__)

MONTHS_AHEAD = 2  # partitions created beyond the current month
LOCK_TIMEOUT = "2s"  # the longest a drop waits for the events table (then the next pass tries again)
_NAME = re.compile(r"^events_p(\d{4})(\d{2})$")


@dataclass(frozen=True)
class Month:
    name: str
    start: float  # unix time, inclusive
    end: float  # exclusive


def partitioned(conn: Connection) -> bool:
    """Whether this database's events table is partitioned by month (PostgreSQL)."""
    return conn.dialect == "postgresql"


def _month(name: str) -> Month:
    match = _NAME.match(name)
    if match is None:
        raise ValueError(f"not a monthly partition of events: {name!r}")
    year, month = int(match[1]), int(match[2])
    nxt = (year + month // 12, month % 12 + 1)
    return Month(name, float(calendar.timegm((year, month, 1, 0, 0, 0))), float(calendar.timegm((*nxt, 1, 0, 0, 0))))


def months(conn: Connection) -> list[Month]:
    """The monthly partitions, oldest first (none on SQLite)."""
    if not partitioned(conn):
        return []
    return [_month(str(r[0])) for r in conn.fetchall(Q.event_partitions)]


def month_floor(conn: Connection, at: float) -> float:
    """Where a cutoff for the events table falls: on a partitioned table the start of `at`'s UTC month,
    so that only whole months go (each dropped with its partition); elsewhere `at` itself."""
    if not partitioned(conn):
        return at
    day = datetime.fromtimestamp(at, UTC)
    return float(calendar.timegm((day.year, day.month, 1, 0, 0, 0)))


def create_ahead(conn: Connection, now: float | None = None, ahead: int = MONTHS_AHEAD) -> int:
    """The partitions of this month and the next `ahead` ones, where missing; returns how many were created.
    A month whose events already went to the default partition gets none (they stay there)."""
    if not partitioned(conn):
        return 0
    import psycopg  # only PostgreSQL gets here (engine.py imports it where it connects)

    today = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    created = 0
    for step in range(ahead + 1):
        year, month = today.year + (today.month - 1 + step) // 12, (today.month - 1 + step) % 12 + 1
        start = float(calendar.timegm((year, month, 1, 0, 0, 0)))
        try:
            with conn.transaction():
                conn.execute(Q.partition_lock_timeout, (LOCK_TIMEOUT,))  # creating one locks the events table
                created += bool(conn.scalar(Q.create_event_partition, (start,)))
        except psycopg.errors.LockNotAvailable:  # busy: the next pass creates it (meanwhile: the default)
            break
    return created


def month_held(conn: Connection, month: Month, done: Query | str) -> bool:
    """Whether an event of the month is not done (`done`: a condition, alias t): such a month is purged
    row by row instead."""
    return bool(conn.scalar(compose(Q.month_held_fragment, "NOT (", done, "))"), (month.start, month.end)))


def delete_month_keys(conn: Connection, month: Month, done: Query | str, limit: int) -> list[Any]:
    """Delete at most `limit` keys of the month's done events (`done`: a condition, alias t), inside the
    caller's transaction; returns (id, received_at) of each. Their finished deliveries and runs cascade."""
    pick = compose(Q.month_keys_fragment, done, Q.month_keys_order_clause)
    picked = conn.fetchall(pick, (month.start, month.end, limit))
    if not picked:
        return []
    ids = conn.array([int(r[0]) for r in picked])
    return conn.fetchall(compose(Q.delete_keys_fragment, done, Q.delete_keys_returning_clause), (ids,))


def drop_month(conn: Connection, month: Month) -> bool:
    """Drop the month's partition if no key of it is left (one short transaction that holds the events
    table, waiting at most LOCK_TIMEOUT for it); returns whether it was dropped."""
    if not _NAME.match(month.name):
        raise ValueError(f"not a monthly partition of events: {month.name!r}")
    import psycopg  # only PostgreSQL gets here (engine.py imports it where it connects)

    try:
        with conn.transaction():
            conn.execute(Q.partition_lock_timeout, (LOCK_TIMEOUT,))
            conn.execute(Q.lock_events)
            if int(conn.scalar(Q.count_keys_between, (month.start, month.end))):
                return False
            conn.execute(Q.drop_partition.fill(partition=quote(month.name)))
    except psycopg.errors.LockNotAvailable:  # busy: rolled back whole, the next pass tries again
        return False
    return True


def import_keys(conn: Connection, rows: Sequence[tuple[int, str, str, str, float]]) -> set[int]:
    """`hookline import events` on a partitioned log: the keys (id, provider, account, dedup_key, received_at)
    of events to import, inserted first; returns the ids that were new (an id or a dedup key already
    stored keeps its event)."""
    if not rows:
        return set()
    values = "VALUES " + ", ".join(["(?, ?, ?, ?, ?)"] * len(rows))
    found = conn.fetchall(
        compose(Q.import_event_keys_fragment, values, Q.import_event_keys_tail_clause), [v for r in rows for v in r]
    )
    return {int(r[0]) for r in found}
