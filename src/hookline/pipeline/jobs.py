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
from hookline.store.events import AccountScope, account_counts
from hookline.store.events import counts as event_counts
from hookline.store.queries import compose, load_queries
from hookline.types import AppendResult, IncomingEvent

CHANNEL = "hookline_jobs"
STATES = ("queued", "running", "parked")

Q = load_queries(__package__)


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
    # PostgreSQL: one statement over arrays that also notifies CHANNEL (its text in queries.postgresql.sql).
    conn.execute_columns(Q.enqueue_jobs, rows)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    event_id: int
    provider: str
    attempts: int
    received_at: float


def claim(conn: Connection, token: str, limit: int, lease: float, now: float | None = None) -> list[Claimed]:
    """Take up to `limit` due jobs (queued, or running with an expired lease) under `token`."""
    now = time.time() if now is None else now
    with conn.transaction():
        rows = conn.fetchall(Q.claim_jobs, (token, now + lease, now, now, limit))
    return [Claimed(int(r[0]), int(r[1]), r[2], int(r[3]), float(r[4])) for r in rows]


def complete_claim(conn: Connection, token: str) -> int:
    """Delete the jobs of a whole claim (inside the caller's transaction); returns how many."""
    return int(conn.execute(Q.complete_claim, (token,)).rowcount)


def complete_job(conn: Connection, job_id: int, token: str) -> bool:
    return bool(conn.execute(Q.complete_job, (job_id, token)).rowcount)


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
        Q.fail_job,
        (state, now if retry_at is None else retry_at, error[:4000], now, job_id, token),
    )
    return bool(cur.rowcount)


def renew(conn: Connection, token: str, lease: float) -> int:
    """Push the lease of a running claim forward; returns the jobs still held."""
    now = time.time()
    cur = conn.execute(Q.renew_claim, (now + lease, now, token))
    return int(cur.rowcount)


def release(conn: Connection, token: str) -> int:
    """Give a claim back untouched (shutdown): due now, and the attempt does not count."""
    now = time.time()
    cur = conn.execute(Q.release_claim, (now, now, token))
    return int(cur.rowcount)


def park_abandoned(conn: Connection, max_attempts: int, now: float | None = None) -> int:
    """Park jobs whose lease lapsed `max_attempts` times (their worker keeps dying on them)."""
    now = time.time() if now is None else now
    cur = conn.execute(Q.park_abandoned, (now, now, max_attempts))
    return int(cur.rowcount)


# --- Reading and operator actions -------------------------------------------------------------

_COLUMNS = "id, event_id, provider, state, run_at, attempts, claim, received_at, last_error, updated_at"


def _job(row: Sequence[Any]) -> dict[str, Any]:
    return dict(zip([c.strip() for c in _COLUMNS.split(",")], row, strict=True))


def list_jobs(
    conn: Connection,
    state: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
    account: AccountScope | None = None,
) -> list[dict[str, Any]]:
    """Newest first."""
    parts: list[Any] = [Q.list_jobs_fragment]
    params: list[Any] = []
    for clause, value in ((Q.job_state_clause, state), (Q.job_before_clause, before_id)):
        if value is not None:
            parts += ["WHERE" if not params else "AND", clause]
            params.append(value)
    if account is not None:
        more, values = account.clause(conn, Q.job_event_clause)
        parts += ["WHERE" if not params else "AND", *more]
        params += values
    params.append(limit)
    return [_job(r) for r in conn.fetchall(compose(*parts, Q.list_jobs_order_clause), params)]


def get_job(conn: Connection, job_id: int) -> dict[str, Any] | None:
    row = conn.fetchone(Q.get_job, (job_id,))
    return None if row is None else _job(row)


def retry(conn: Connection, job_ids: Sequence[int] | None = None) -> int:
    """Queue parked jobs again with a fresh attempt budget: the given ones, or all parked (None)."""
    now = time.time()
    if job_ids is None:
        return int(conn.execute(Q.retry_parked_jobs, (now, now)).rowcount)
    return sum(int(conn.execute(Q.retry_parked_job, (now, now, i)).rowcount) for i in job_ids)


def notify(conn: Connection) -> None:
    """Wake PostgreSQL listeners (after `retry`, for instance); a no-op on SQLite."""
    conn.notify(CHANNEL)


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


def stats(conn: Connection, account: AccountScope | None = None) -> Stats:
    """Of everything, or of one account (its events counted through their index, see account_counts)."""
    if account is None:
        received, duplicates = event_counts(conn)
        rows = dict(conn.fetchall(Q.count_jobs_by_state))
        oldest = conn.scalar(Q.oldest_pending_job)
    else:
        received, duplicates = account_counts(conn, account)
        more, values = account.clause(conn, Q.job_event_clause)
        rows = dict(conn.fetchall(compose(Q.jobs_by_state_fragment, *more, Q.group_by_state_clause), values))
        oldest = conn.scalar(compose(Q.oldest_pending_fragment, *more), values)
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
