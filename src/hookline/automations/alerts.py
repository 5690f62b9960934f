"""The alerts table: at most one open alert per rule and window key (a partial unique index)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from hookline.store.engine import Connection

COLUMNS = ("id", "rule_name", "window_key", "severity", "title", "event_id", "count", "opened_at", "last_at",
           "acked_at")
_SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM alerts"


def _row(row: Sequence[Any]) -> dict[str, Any]:
    out = dict(zip(COLUMNS, row, strict=True))
    out["open"] = out["acked_at"] is None
    return out


def open_or_count(
    conn: Connection, rule: str, key: str, severity: str, title: str, event_id: int
) -> tuple[int, bool]:
    """(alert id, True when this call opened it); an open one only counts one more hit.

    The same event asking again (its run resumed after a crash between this write and the step's
    record) gets the alert it opened, not one more hit, so the steps after it still run once.
    """
    now = time.time()
    mine = conn.scalar(
        "SELECT id FROM alerts WHERE rule_name = ? AND window_key = ? AND acked_at IS NULL AND event_id = ?",
        (rule, key, event_id),
    )
    if mine is not None:
        return int(mine), True
    row = conn.fetchone(
        "INSERT INTO alerts (rule_name, window_key, severity, title, event_id, count, opened_at, last_at)"
        " VALUES (?, ?, ?, ?, ?, 1, ?, ?)"
        " ON CONFLICT (rule_name, window_key) WHERE acked_at IS NULL"
        " DO UPDATE SET count = alerts.count + 1, last_at = excluded.last_at RETURNING id, count",
        (rule, key, severity, title, event_id, now, now),
    )
    return int(row[0]), int(row[1]) == 1


def list_alerts(conn: Connection, *, open_only: bool = False, limit: int = 100) -> list[dict[str, Any]]:
    sql = _SELECT + (" WHERE acked_at IS NULL" if open_only else "") + " ORDER BY id DESC LIMIT ?"
    return [_row(r) for r in conn.fetchall(sql, (limit,))]


def get(conn: Connection, alert_id: int) -> dict[str, Any] | None:
    row = conn.fetchone(_SELECT + " WHERE id = ?", (alert_id,))
    return None if row is None else _row(row)


def ack(conn: Connection, alert_id: int) -> dict[str, Any] | None:
    """Acknowledge (idempotent); None when there is no such alert. The next match opens a new one."""
    conn.execute("UPDATE alerts SET acked_at = ? WHERE id = ? AND acked_at IS NULL", (time.time(), alert_id))
    return get(conn, alert_id)
