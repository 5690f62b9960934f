"""Retention policies: which rows of which table are old and done, counted (`retention show`) and
deleted in small batches (the retention loop).

An event is deleted only when nothing still needs it: no job (queued, running or parked), no
delivery still to send, no automation run still to execute. Its finished deliveries and runs go with
it in the same transaction (ON DELETE CASCADE), its windowed-rule matches too: an event is either
wholly there or wholly gone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hookline.retention.settings import RetentionSettings
from hookline.store import partitions
from hookline.store.engine import Connection
from hookline.store.queries import Query, load_queries
from hookline.store.tables import count_aged, delete_aged, first_time, table_size

if TYPE_CHECKING:
    from hookline.provider import Provider

Q = load_queries(__package__)

DAY = 86400.0
COUNT_LIMIT = 1000  # the dashboard counts rows to delete up to this (`retention show` counts them all)
# The newest `received_at` of an event purged by retention: older history cannot be replayed.
PURGED_KEY = "retention.events_purged_before"


@dataclass(frozen=True)
class Policy:
    name: str  # as shown by `retention show`
    setting: str  # the RetentionSettings field giving its age in days
    table: str
    time_column: str
    done: str | Query  # SQL condition (alias t) of a row that may go; a `*_clause` of a query file
    key: str = "id"  # the column(s) naming a row, for batched deletes
    # Runs in the delete's transaction with the deleted rows (key columns, then the time).
    after_delete: Callable[[Connection, list[Any]], None] | None = None
    # The events table: on PostgreSQL whole expired months are dropped first (store/partitions.py).
    monthly: bool = False


def _event_extras(conn: Connection, gone: list[Any]) -> None:
    """The deleted events' windowed-rule matches, and how far the log was purged (for `rebuild`)."""
    conn.execute(Q.delete_event_matches, (conn.array([g[0] for g in gone]),))
    newest = max(float(g[1]) for g in gone)
    conn.execute(Q.advance_purged_before, (PURGED_KEY, repr(newest)))


EVENTS = Policy(
    "events",
    "events_days",
    "events",
    "received_at",
    Q.event_done_clause,
    after_delete=_event_extras,
    monthly=True,
)
DELIVERIES = Policy("deliveries", "deliveries_days", "deliveries", "created_at", Q.delivery_done_clause)
AUTOMATION_RUNS = Policy(
    "automation_runs", "automation_runs_days", "automation_runs", "created_at", Q.automation_run_done_clause
)


def policies(providers: Iterable[Provider]) -> list[Policy]:
    """The core's policies, then each provider's (Provider.retention_policies)."""
    found = [EVENTS, DELIVERIES, AUTOMATION_RUNS]
    for provider in providers:
        found += provider.retention_policies()
    return found


def cutoff(cfg: RetentionSettings, policy: Policy, now: float | None = None) -> float | None:
    """Rows older than this time may go; None: the policy keeps everything."""
    days = float(getattr(cfg, policy.setting))
    if days <= 0:
        return None
    return (time.time() if now is None else now) - days * DAY


def policy_cutoff(conn: Connection, cfg: RetentionSettings, policy: Policy, now: float | None = None) -> float | None:
    """The cutoff a pass applies: `cutoff`, except that a monthly policy on a partitioned events table
    (PostgreSQL) deletes whole months only, so its cutoff is the start of the month `cutoff` falls in.
    Deleting an expired month is its keys and a dropped partition; deleting its rows one by one wrote
    ~1.7 KB of WAL per event (the first change of each page after a checkpoint is logged whole), which
    every ingest commit had to flush with its own (bench/README.md, "Ingest while purging")."""
    before = cutoff(cfg, policy, now)
    if before is None or not policy.monthly:
        return before
    return partitions.month_floor(conn, before)


def would_delete(conn: Connection, policy: Policy, before: float, limit: int | None = None) -> dict[str, Any]:
    """What a purge would delete now: a count, the oldest time, and (old rows kept) how many stay. With
    `limit`, counts stop there: `capped` says the count is a lower bound, `held_back` is then None."""
    rows, oldest, old = count_aged(conn, policy.table, policy.time_column, policy.done, before, limit)
    capped = limit is not None and rows >= limit
    held_back = None if limit is not None and old >= limit else old - rows
    return {"rows": rows, "oldest": None if oldest is None else float(oldest), "held_back": held_back,
            "capped": capped}


def stored(conn: Connection, policy: Policy) -> dict[str, Any]:
    """What the policy's table holds, estimated without reading it whole: rows, bytes, and the oldest row's
    time (known where the table has a single-column key growing with time; None otherwise)."""
    rows, size = table_size(conn, policy.table)
    oldest = first_time(conn, policy.table, policy.time_column, policy.key) if "," not in policy.key else None
    return {"rows": rows, "bytes": size, "oldest": None if oldest is None else float(oldest)}


def report(
    conn: Connection,
    cfg: RetentionSettings,
    providers: Iterable[Provider],
    now: float,
    limit: int | None = None,
    only: str | None = None,
) -> list[dict[str, Any]]:
    """Per policy (`retention show` and the dashboard; `only`: that one): its setting, what is stored, what a
    pass would delete now (None where the policy keeps everything)."""
    out = []
    for policy in policies(providers):
        if only is not None and policy.name != only:
            continue
        before = policy_cutoff(conn, cfg, policy, now)
        out.append({
            "name": policy.name,
            "setting": f"HOOKLINE_RETENTION_{policy.setting.upper()}",
            "days": float(getattr(cfg, policy.setting)),
            "before": before,
            "stored": stored(conn, policy),
            "found": None if before is None else would_delete(conn, policy, before, limit),
        })
    return out


def purge_batch(conn: Connection, policy: Policy, before: float, limit: int) -> int:
    """Delete at most `limit` old, done rows in ONE short transaction; returns how many went."""
    keys = [k.strip() for k in policy.key.split(",")]
    with conn.transaction():
        gone = delete_aged(conn, policy.table, policy.time_column, policy.done, keys, before, limit)
        if gone and policy.after_delete is not None:
            policy.after_delete(conn, gone)
        return len(gone)


def expired_months(conn: Connection, policy: Policy, before: float) -> list[partitions.Month]:
    """The monthly partitions whose every event is older than `before` and done (none unless partitioned).
    A month with an event still needed has its done events purged row by row instead."""
    if not policy.monthly:
        return []
    return [m for m in partitions.months(conn) if m.end <= before and not partitions.month_held(conn, m, policy.done)]


def purge_month_batch(conn: Connection, policy: Policy, month: partitions.Month, limit: int) -> int:
    """Delete at most `limit` keys of the month's done events in ONE short transaction (their finished
    deliveries and runs cascade, their matches go, purged_before moves); returns how many went."""
    with conn.transaction():
        gone = partitions.delete_month_keys(conn, month, policy.done, limit)
        if gone and policy.after_delete is not None:
            policy.after_delete(conn, gone)
        return len(gone)


def purged_before(conn: Connection) -> float | None:
    value = conn.scalar(Q.purged_before, (PURGED_KEY,))
    return None if value is None else float(value)
