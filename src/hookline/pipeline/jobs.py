"""The jobs table: enqueue (in the group commit), claim, complete, fail, renew, release, list, retry.

Every statement that ends a claim is fenced by the claim token: a worker whose lease lapsed (and
whose jobs another worker took over) finds zero rows and rolls its work back instead of applying it
a second time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hookline.store.engine import Connection
from hookline.store.events import counts as event_counts
from hookline.types import AppendResult, IncomingEvent

CHANNEL = "hookline_jobs"
STATES = ("queued", "running", "parked")

_ENQUEUE = "INSERT INTO jobs (event_id, provider, run_at, received_at, updated_at) VALUES (?, ?, ?, ?, ?)"
# PostgreSQL: the whole batch in one statement (arrays), and the NOTIFY with it: one round trip.
# NOTIFY is transactional: listeners hear it only once the events and their jobs are committed.
_ENQUEUE_PG = (
    "WITH ins AS (INSERT INTO jobs (event_id, provider, run_at, received_at, updated_at)"
    " SELECT e, p, r, r, r FROM unnest(%s::bigint[], %s::text[], %s::float8[]) AS t (e, p, r))"
    f" SELECT pg_notify('{CHANNEL}', '')"
)


def enqueue_hook(wake: Callable[[], None] | None = None) -> Callable[..., None]:
    """A `Committer.in_transaction` hook: one job per new (non-duplicate) event of the batch.

    `wake` is called after the rows are written (still inside the transaction) to nudge an
    in-process worker; on SQLite the worker's claim waits for this commit's write lock, so it sees
    the jobs.
    """

    def hook(conn: Connection, events: list[IncomingEvent], results: list[AppendResult]) -> None:
        rows = [(r.id, e.provider, e.received_at) for e, r in zip(events, results, strict=True) if not r.duplicate]
        enqueue(conn, rows)
        if rows and wake is not None:
            wake()

    return hook


def enqueue(conn: Connection, rows: Sequence[tuple[int, str, float]]) -> None:
    """Jobs for (event_id, provider, received_at) rows, inside the caller's transaction."""
    if not rows:
        return
    if conn.dialect == "postgresql":
        ids, provs, times = zip(*rows, strict=True)
        conn.raw.execute(_ENQUEUE_PG, (list(ids), list(provs), list(times)))
    else:
        conn.raw.executemany(_ENQUEUE, [(i, p, t, t, t) for i, p, t in rows])


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    event_id: int
    provider: str
    attempts: int
    received_at: float


_CLAIM = (
    "UPDATE jobs SET state = 'running', claim = ?, attempts = attempts + 1, run_at = ?, updated_at = ?"
    " WHERE id IN (SELECT id FROM jobs WHERE state <> 'parked' AND run_at <= ?"
    " ORDER BY run_at LIMIT ?{lock})"
    " RETURNING id, event_id, provider, attempts, received_at"
)


def claim(conn: Connection, token: str, limit: int, lease: float, now: float | None = None) -> list[Claimed]:
    """Take up to `limit` due jobs (queued, or running with an expired lease) under `token`."""
    now = time.time() if now is None else now
    lock = " FOR UPDATE SKIP LOCKED" if conn.dialect == "postgresql" else ""
    with conn.transaction():
        rows = conn.fetchall(_CLAIM.format(lock=lock), (token, now + lease, now, now, limit))
    return [Claimed(int(r[0]), int(r[1]), r[2], int(r[3]), float(r[4])) for r in rows]


def complete_claim(conn: Connection, token: str) -> int:
    """Delete the jobs of a whole claim (inside the caller's transaction); returns how many."""
    return int(conn.execute("DELETE FROM jobs WHERE claim = ?", (token,)).rowcount)


def complete_job(conn: Connection, job_id: int, token: str) -> bool:
    return bool(conn.execute("DELETE FROM jobs WHERE id = ? AND claim = ?", (job_id, token)).rowcount)


def backoff_delay(attempts: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter: about base, 2*base, 4*base... capped, never below half."""
    delay = min(cap, base * 2.0 ** max(0, attempts - 1))
    return delay * random.uniform(0.5, 1.0)


def fail_job(
    conn: Connection,
    job_id: int,
    token: str,
    error: str,
    *,
    retry_at: float | None,
    now: float | None = None,
) -> bool:
    """Record a failure: back to the queue until `retry_at`, or parked when `retry_at` is None."""
    now = time.time() if now is None else now
    state = "parked" if retry_at is None else "queued"
    cur = conn.execute(
        "UPDATE jobs SET state = ?, run_at = ?, claim = NULL, last_error = ?, updated_at = ?"
        " WHERE id = ? AND claim = ?",
        (state, now if retry_at is None else retry_at, error[:4000], now, job_id, token),
    )
    return bool(cur.rowcount)


def renew(conn: Connection, token: str, lease: float) -> int:
    """Push the lease of a running claim forward; returns the jobs still held."""
    now = time.time()
    cur = conn.execute(
        "UPDATE jobs SET run_at = ?, updated_at = ? WHERE claim = ? AND state = 'running'", (now + lease, now, token)
    )
    return int(cur.rowcount)


def release(conn: Connection, token: str) -> int:
    """Give a claim back untouched (shutdown): due now, and the attempt does not count."""
    now = time.time()
    cur = conn.execute(
        "UPDATE jobs SET state = 'queued', claim = NULL, run_at = ?, attempts = attempts - 1, updated_at = ?"
        " WHERE claim = ? AND state = 'running'",
        (now, now, token),
    )
    return int(cur.rowcount)


def park_abandoned(conn: Connection, max_attempts: int, now: float | None = None) -> int:
    """Park jobs whose lease lapsed `max_attempts` times (their worker keeps dying on them)."""
    now = time.time() if now is None else now
    cur = conn.execute(
        "UPDATE jobs SET state = 'parked', claim = NULL, updated_at = ?,"
        " last_error = 'the worker running it stopped before finishing, ' || attempts || ' times'"
        " WHERE state = 'running' AND run_at <= ? AND attempts >= ?",
        (now, now, max_attempts),
    )
    return int(cur.rowcount)


# --- Reading and operator actions -------------------------------------------------------------

_COLUMNS = "id, event_id, provider, state, run_at, attempts, claim, received_at, last_error, updated_at"


def _job(row: Sequence[Any]) -> dict[str, Any]:
    return dict(zip([c.strip() for c in _COLUMNS.split(",")], row, strict=True))


def list_jobs(
    conn: Connection, state: str | None = None, limit: int = 100, before_id: int | None = None
) -> list[dict[str, Any]]:
    """Newest first."""
    where: list[str] = []
    params: list[Any] = []
    if state is not None:
        where.append("state = ?")
        params.append(state)
    if before_id is not None:
        where.append("id < ?")
        params.append(before_id)
    sql = f"SELECT {_COLUMNS} FROM jobs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    params.append(limit)
    return [_job(r) for r in conn.fetchall(sql + " ORDER BY id DESC LIMIT ?", params)]


def get_job(conn: Connection, job_id: int) -> dict[str, Any] | None:
    row = conn.fetchone(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
    return None if row is None else _job(row)


def retry(conn: Connection, job_ids: Sequence[int] | None = None) -> int:
    """Queue parked jobs again with a fresh attempt budget: the given ones, or all parked (None)."""
    now = time.time()
    sql = "UPDATE jobs SET state = 'queued', run_at = ?, attempts = 0, updated_at = ? WHERE state = 'parked'"
    if job_ids is None:
        return int(conn.execute(sql, (now, now)).rowcount)
    return sum(int(conn.execute(sql + " AND id = ?", (now, now, i)).rowcount) for i in job_ids)


def notify(conn: Connection) -> None:
    """Wake PostgreSQL listeners (after `retry`, for instance); a no-op on SQLite."""
    if conn.dialect == "postgresql":
        conn.execute(f"SELECT pg_notify('{CHANNEL}', '')")


@dataclass(frozen=True)
class Stats:
    received: int
    duplicates: int
    processed: int
    pending: int
    running: int
    parked: int
    oldest_pending_received_at: float | None

    def lag_seconds(self, now: float | None = None) -> float:
        if self.oldest_pending_received_at is None:
            return 0.0
        return max(0.0, (time.time() if now is None else now) - self.oldest_pending_received_at)


def stats(conn: Connection) -> Stats:
    received, duplicates = event_counts(conn)
    rows = dict(conn.fetchall("SELECT state, count(*) FROM jobs GROUP BY state"))
    oldest = conn.scalar("SELECT min(received_at) FROM jobs WHERE state <> 'parked'")
    queued, running, parked = (int(rows.get(s, 0)) for s in STATES)
    pending = queued + running
    return Stats(
        received=int(received),
        duplicates=int(duplicates),
        processed=max(0, int(received) - pending - parked),
        pending=pending,
        running=running,
        parked=parked,
        oldest_pending_received_at=None if oldest is None else float(oldest),
    )
