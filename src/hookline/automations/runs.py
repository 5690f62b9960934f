"""The runs table: one row per rule and matching event, the queue the executor works from.

Created in the worker's transaction (matcher.py) with ON CONFLICT DO NOTHING on (rule_id, event_id),
so a duplicate webhook, a replayed batch or a second worker never makes a second run. The executor
claims due rows under a lease (SKIP LOCKED on PostgreSQL), records each step's outcome as it ends,
and every statement that ends a claim is fenced by the claim token, like the jobs table.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from hookline.store.engine import Connection

STATES = ("pending", "running", "succeeded", "failed", "parked", "dry-run")
COLUMNS = ("id", "rule_id", "rule_name", "event_id", "mode", "window_key", "state", "attempts", "run_at",
           "steps", "last_error", "created_at", "updated_at", "finished_at")
_SELECT = "SELECT " + ", ".join(f"r.{c}" for c in COLUMNS) + " FROM automation_runs r"


def create(conn: Connection, rows: Sequence[tuple[int, str, int, str, str, str, list[Any]]]) -> int:
    """(rule_id, rule_name, event_id, mode, window_key, state, steps) rows; returns how many were new."""
    now = time.time()
    made = 0
    for rule_id, name, event_id, mode, key, state, steps in rows:
        finished = now if state == "dry-run" else None
        made += conn.execute(
            "INSERT INTO automation_runs (rule_id, rule_name, event_id, mode, window_key, state, run_at, steps,"
            " created_at, updated_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (rule_id, event_id) DO NOTHING",
            (rule_id, name, event_id, mode, key, state, now, msgspec.json.encode(steps).decode(), now, now, finished),
        ).rowcount
    return made


@dataclass(frozen=True)
class Claimed:
    id: int
    rule_id: int
    rule_name: str
    event_id: int
    window_key: str
    attempts: int  # counting this one
    steps: list[dict[str, Any]]


_CLAIM = (
    "UPDATE automation_runs SET state = 'running', claim = ?, attempts = attempts + 1, run_at = ?, updated_at = ?"
    " WHERE id IN (SELECT id FROM automation_runs WHERE state IN ('pending', 'running') AND run_at <= ?"
    " ORDER BY run_at, id LIMIT ?{lock})"
    " RETURNING id, rule_id, rule_name, event_id, window_key, attempts, steps"
)


def claim(conn: Connection, token: str, limit: int, lease: float, now: float | None = None) -> list[Claimed]:
    """Take due runs (pending, or running with a lapsed lease: its process died) under `token`."""
    now = time.time() if now is None else now
    lock = " FOR UPDATE SKIP LOCKED" if conn.dialect == "postgresql" else ""
    with conn.transaction():
        rows = conn.fetchall(_CLAIM.format(lock=lock), (token, now + lease, now, now, limit))
    return [Claimed(int(r[0]), int(r[1]), r[2], int(r[3]), r[4], int(r[5]), msgspec.json.decode(r[6]))
            for r in sorted(rows, key=lambda r: int(r[0]))]


def next_due(conn: Connection, now: float) -> float | None:
    value = conn.scalar("SELECT min(run_at) FROM automation_runs WHERE state IN ('pending', 'running')"
                        " AND run_at > ?", (now,))
    return None if value is None else float(value)


def renew(conn: Connection, token: str, lease: float) -> int:
    now = time.time()
    with conn.transaction():
        return int(conn.execute("UPDATE automation_runs SET run_at = ?, updated_at = ? WHERE claim = ?"
                                " AND state = 'running'", (now + lease, now, token)).rowcount)


def record_steps(conn: Connection, run_id: int, token: str, steps: list[dict[str, Any]]) -> bool:
    """A step ended: its outcome is stored before the next one starts (False: the claim was lost)."""
    with conn.transaction():
        return bool(conn.execute(
            "UPDATE automation_runs SET steps = ?, updated_at = ? WHERE id = ? AND claim = ?",
            (msgspec.json.encode(steps).decode(), time.time(), run_id, token),
        ).rowcount)


def finish(
    conn: Connection, run_id: int, token: str, state: str, steps: list[dict[str, Any]], *,
    error: str | None = None, retry_at: float | None = None,
) -> bool:
    """succeeded / failed / parked, or back to pending until `retry_at`; fenced by the claim."""
    now = time.time()
    done = state != "pending"
    with conn.transaction():
        return bool(conn.execute(
            "UPDATE automation_runs SET state = ?, claim = NULL, steps = ?, last_error = ?, run_at = ?,"
            " updated_at = ?, finished_at = ? WHERE id = ? AND claim = ?",
            (state, msgspec.json.encode(steps).decode(), None if error is None else error[:2000],
             retry_at if retry_at is not None else now, now, now if done else None, run_id, token),
        ).rowcount)


def release(conn: Connection, token: str) -> int:
    """Hand a claim back untouched (shutdown): due at once, the attempt not counted."""
    now = time.time()
    with conn.transaction():
        return int(conn.execute(
            "UPDATE automation_runs SET state = 'pending', claim = NULL, run_at = ?, attempts = attempts - 1,"
            " updated_at = ? WHERE claim = ? AND state = 'running'", (now, now, token)).rowcount)


# --- reading and operator actions ---------------------------------------------------------------


def _row(row: Sequence[Any]) -> dict[str, Any]:
    out = dict(zip(COLUMNS, row, strict=True))
    out["steps"] = msgspec.json.decode(out["steps"])
    return out


def list_runs(
    conn: Connection, *, rule: str | None = None, state: str | None = None, limit: int = 100,
    before_id: int | None = None,
) -> list[dict[str, Any]]:
    """Newest first."""
    where, params = [], []
    for cond, value in (("r.rule_name = ?", rule), ("r.state = ?", state), ("r.id < ?", before_id)):
        if value is not None:
            where.append(cond)
            params.append(value)
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY r.id DESC LIMIT ?"
    return [_row(r) for r in conn.fetchall(sql, [*params, limit])]


def get(conn: Connection, run_id: int) -> dict[str, Any] | None:
    row = conn.fetchone(_SELECT + " WHERE r.id = ?", (run_id,))
    return None if row is None else _row(row)


def retry(conn: Connection, run_id: int) -> bool:
    """A failed or parked run queued again with a fresh attempt budget; steps that succeeded are kept."""
    now = time.time()
    return bool(conn.execute(
        "UPDATE automation_runs SET state = 'pending', attempts = 0, run_at = ?, updated_at = ?, finished_at = NULL"
        " WHERE id = ? AND state IN ('failed', 'parked')", (now, now, run_id)).rowcount)


def counts_by_rule(conn: Connection, since: float) -> dict[str, dict[str, int]]:
    """Per rule: runs created since `since`, by state."""
    found: dict[str, dict[str, int]] = {}
    for name, state, n in conn.fetchall(
        "SELECT rule_name, state, count(*) FROM automation_runs WHERE created_at >= ? GROUP BY rule_name, state",
        (since,),
    ):
        found.setdefault(name, {})[state] = int(n)
    return found
