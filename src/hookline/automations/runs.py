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
from hookline.store.queries import compose, load_queries

STATES = ("pending", "running", "succeeded", "failed", "parked", "dry-run")
COLUMNS = ("id", "rule_id", "rule_name", "event_id", "mode", "window_key", "state", "attempts", "run_at",
           "steps", "last_error", "created_at", "updated_at", "finished_at")
Q = load_queries(__package__)


_CREATED = ("rule_id", "rule_name", "event_id", "mode", "window_key", "state", "run_at", "steps", "created_at",
            "updated_at", "finished_at")


def create(conn: Connection, rows: Sequence[tuple[int, str, int, str, str, str, list[Any]]]) -> int:
    """(rule_id, rule_name, event_id, mode, window_key, state, steps) rows; returns how many were new.
    One statement for the batch; the first row of a (rule, event) wins, and the rows go in event order
    (the executor's order), which is also the order in which concurrent workers wait on each other's."""
    now = time.time()
    first: dict[tuple[int, int], tuple[Any, ...]] = {}
    for rule_id, name, event_id, mode, key, state, steps in rows:
        finished = now if state == "dry-run" else None
        first.setdefault((event_id, rule_id), (rule_id, name, event_id, mode, key, state, now,
                                               msgspec.json.encode(steps).decode(), now, now, finished))
    return conn.insert_many("automation_runs", _CREATED, [first[k] for k in sorted(first)],
                            "ON CONFLICT (rule_id, event_id) DO NOTHING")


@dataclass(frozen=True)
class Claimed:
    id: int
    rule_id: int
    rule_name: str
    event_id: int
    window_key: str
    attempts: int  # counting this one
    steps: list[dict[str, Any]]


def claim(conn: Connection, token: str, limit: int, lease: float, now: float | None = None) -> list[Claimed]:
    """Take due runs (pending, or running with a lapsed lease: its process died) under `token`."""
    now = time.time() if now is None else now
    with conn.transaction():
        rows = conn.fetchall(Q.claim_runs, (token, now + lease, now, now, limit))
    return [Claimed(int(r[0]), int(r[1]), r[2], int(r[3]), r[4], int(r[5]), msgspec.json.decode(r[6]))
            for r in sorted(rows, key=lambda r: int(r[0]))]


def next_due(conn: Connection, now: float) -> float | None:
    value = conn.scalar(Q.next_run_due, (now,))
    return None if value is None else float(value)


def renew(conn: Connection, token: str, lease: float) -> int:
    now = time.time()
    with conn.transaction():
        return int(conn.execute(Q.renew_runs, (now + lease, now, token)).rowcount)


def record_steps(conn: Connection, run_id: int, token: str, steps: list[dict[str, Any]]) -> bool:
    """A step ended: its outcome is stored before the next one starts (False: the claim was lost)."""
    with conn.transaction():
        return bool(conn.execute(
            Q.record_run_steps,
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
            Q.finish_run,
            (state, msgspec.json.encode(steps).decode(), None if error is None else error[:2000],
             retry_at if retry_at is not None else now, now, now if done else None, run_id, token),
        ).rowcount)


def release(conn: Connection, token: str) -> int:
    """Hand a claim back untouched (shutdown): due at once, the attempt not counted."""
    now = time.time()
    with conn.transaction():
        return int(conn.execute(Q.release_runs, (now, now, token)).rowcount)


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
    parts: list[Any] = [Q.list_runs_fragment]
    params: list[Any] = []
    for clause, value in ((Q.run_rule_clause, rule), (Q.run_state_clause, state), (Q.run_before_clause, before_id)):
        if value is not None:
            parts += ["WHERE" if not params else "AND", clause]
            params.append(value)
    return [_row(r) for r in conn.fetchall(compose(*parts, Q.list_runs_order_clause), [*params, limit])]


def get(conn: Connection, run_id: int) -> dict[str, Any] | None:
    row = conn.fetchone(compose(Q.list_runs_fragment, "WHERE", Q.run_id_clause), (run_id,))
    return None if row is None else _row(row)


def retry(conn: Connection, run_id: int) -> bool:
    """A failed or parked run queued again with a fresh attempt budget; steps that succeeded are kept."""
    now = time.time()
    return bool(conn.execute(Q.retry_run, (now, now, run_id)).rowcount)


def counts_by_rule(conn: Connection, since: float) -> dict[str, dict[str, int]]:
    """Per rule: runs created since `since`, by state."""
    found: dict[str, dict[str, int]] = {}
    for name, state, n in conn.fetchall(Q.count_runs_by_rule, (since,)):
        found.setdefault(name, {})[state] = int(n)
    return found
