"""Retention policies: which rows of which table are old and done, counted (`retention show`) and
deleted in small batches (the retention loop).

An event is deleted only when nothing still needs it: no job (queued, running or parked), no
delivery still to send, no automation run still to execute. Its finished deliveries and runs go with
it in the same transaction (ON DELETE CASCADE), its windowed-rule matches too: an event is either
wholly there or wholly gone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hookline.retention.settings import RetentionSettings
from hookline.store.engine import Connection

DAY = 86400.0
# The newest `received_at` of an event purged by retention: older history cannot be replayed.
PURGED_KEY = "retention.events_purged_before"


@dataclass(frozen=True)
class Policy:
    name: str  # as shown by `retention show`
    setting: str  # the RetentionSettings field giving its age in days
    table: str
    time_column: str
    done: str  # SQL condition (alias t) of a row that may go
    key: str = "id"  # the column(s) naming a row, for batched deletes
    # Runs in the delete's transaction with the deleted rows (key columns, then the time).
    after_delete: Callable[[Connection, list[Any]], None] | None = None


def _event_extras(conn: Connection, gone: list[Any]) -> None:
    """The deleted events' windowed-rule matches, and how far the log was purged (for `rebuild`)."""
    marks = ",".join("?" * len(gone))
    conn.execute(f"DELETE FROM automation_matches WHERE event_id IN ({marks})", [g[0] for g in gone])
    newest = max(float(g[1]) for g in gone)
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        " WHERE CAST(settings.value AS DOUBLE PRECISION) < CAST(excluded.value AS DOUBLE PRECISION)",
        (PURGED_KEY, repr(newest)),
    )


EVENTS = Policy(
    "events",
    "events_days",
    "events",
    "received_at",
    "NOT EXISTS (SELECT 1 FROM jobs j WHERE j.event_id = t.id)"
    " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = t.id AND d.state IN ('pending', 'retrying'))"
    " AND NOT EXISTS (SELECT 1 FROM automation_runs r WHERE r.event_id = t.id AND r.state IN ('pending', 'running'))",
    after_delete=_event_extras,
)
DELIVERIES = Policy("deliveries", "deliveries_days", "deliveries", "created_at", "t.state IN ('succeeded', 'dead')")
AUTOMATION_RUNS = Policy(
    "automation_runs", "automation_runs_days", "automation_runs", "created_at", "t.state NOT IN ('pending', 'running')"
)


def policies() -> list[Policy]:
    """The core's policies, then each provider's (Provider.retention_policies)."""
    from hookline.providers.registry import providers

    found = [EVENTS, DELIVERIES, AUTOMATION_RUNS]
    for provider in providers():
        found += provider.retention_policies()
    return found


def cutoff(cfg: RetentionSettings, policy: Policy, now: float | None = None) -> float | None:
    """Rows older than this time may go; None: the policy keeps everything."""
    days = float(getattr(cfg, policy.setting))
    if days <= 0:
        return None
    return (time.time() if now is None else now) - days * DAY


def _where(policy: Policy) -> str:
    return f'FROM {policy.table} t WHERE t."{policy.time_column}" < ? AND {policy.done}'


def would_delete(conn: Connection, policy: Policy, before: float) -> dict[str, Any]:
    """What a purge would delete now: a count, the oldest time, and (old rows kept) how many stay."""
    row = conn.fetchone(f'SELECT count(*), min(t."{policy.time_column}") {_where(policy)}', (before,))
    old = int(conn.scalar(f'SELECT count(*) FROM {policy.table} t WHERE t."{policy.time_column}" < ?', (before,)))
    return {"rows": int(row[0]), "oldest": None if row[1] is None else float(row[1]), "held_back": old - int(row[0])}


def purge_batch(conn: Connection, policy: Policy, before: float, limit: int) -> int:
    """Delete at most `limit` old, done rows in ONE short transaction; returns how many went."""
    keys = [k.strip() for k in policy.key.split(",")]
    cols = ", ".join(f"t.{k}" for k in keys)
    with conn.transaction():
        order = f't."{policy.time_column}"'
        ids = conn.fetchall(f"SELECT {cols} {_where(policy)} ORDER BY {order} LIMIT ?", (before, limit))
        if not ids:
            return 0
        if len(keys) == 1:
            params: list[Any] = [i[0] for i in ids]
            match = f"t.{keys[0]} IN ({','.join('?' * len(ids))})"
        else:
            one = "(" + ", ".join("?" * len(keys)) + ")"
            match = f"({cols}) IN (VALUES {', '.join([one] * len(ids))})"
            params = [v for i in ids for v in i]
        # The condition again: a row that became needed since the SELECT stays.
        returning = ", ".join([*keys, f'"{policy.time_column}"'])  # SQLite's RETURNING takes no alias
        gone = conn.fetchall(
            f"DELETE FROM {policy.table} AS t WHERE {match} AND {policy.done} RETURNING {returning}",
            params,
        )
        if gone and policy.after_delete is not None:
            policy.after_delete(conn, gone)
        return len(gone)


def purged_before(conn: Connection) -> float | None:
    value = conn.scalar("SELECT value FROM settings WHERE key = ?", (PURGED_KEY,))
    return None if value is None else float(value)
