"""The alerts table: at most one open alert per rule and window key (a partial unique index)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from hookline.store.engine import Connection
from hookline.store.queries import load_queries

COLUMNS = ("id", "rule_name", "window_key", "severity", "title", "event_id", "count", "opened_at", "last_at",
           "acked_at")
Q = load_queries(__package__)


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
    mine = conn.scalar(Q.my_open_alert, (rule, key, event_id))
    if mine is not None:
        return int(mine), True
    row = conn.fetchone(
        Q.open_or_count_alert,
        (rule, key, severity, title, event_id, now, now),
    )
    return int(row[0]), int(row[1]) == 1


def list_alerts(conn: Connection, *, open_only: bool = False, limit: int = 100) -> list[dict[str, Any]]:
    return [_row(r) for r in conn.fetchall(Q.list_open_alerts if open_only else Q.list_alerts, (limit,))]


def get(conn: Connection, alert_id: int) -> dict[str, Any] | None:
    row = conn.fetchone(Q.get_alert, (alert_id,))
    return None if row is None else _row(row)


def ack(conn: Connection, alert_id: int) -> dict[str, Any] | None:
    """Acknowledge (idempotent); None when there is no such alert. The next match opens a new one."""
    conn.execute(Q.ack_alert, (time.time(), alert_id))
    return get(conn, alert_id)
