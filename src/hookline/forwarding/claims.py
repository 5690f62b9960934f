"""The dispatcher's side of the delivery queue: claim due rows under a lease, record outcomes.

A claim is one short transaction. On PostgreSQL the due rows are picked with FOR UPDATE SKIP LOCKED,
so any number of dispatchers can claim at once without waiting on each other or taking the same row;
the lease columns then keep the row theirs after COMMIT until the outcome is written or the lease
expires (a dispatcher that died). SQLite runs a single dispatcher per database file.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hookline.forwarding.destinations import COLUMNS, Destination, bump_version
from hookline.forwarding.policy import Decision
from hookline.store.engine import Connection

OPEN = "d.state IN ('pending', 'retrying')"
# On an ordered destination a delivery waits while an earlier one (by occurred_at, then event id) of the
# same resource is unfinished, or while any of that resource's deliveries is in flight.
_ORDERED = (
    " AND (d.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries e"
    " WHERE e.destination_id = d.destination_id AND e.ordering_key = d.ordering_key"
    " AND e.state IN ('pending', 'retrying') AND e.id <> d.id"
    " AND ((e.occurred_at, e.event_id, e.id) < (d.occurred_at, d.event_id, d.id) OR e.lease_expires_at > ?)))"
)
_JOB = (
    "SELECT d.id, d.destination_id, d.webhook_id, d.origin, d.attempts, d.started_at,"
    " e.id, e.provider, e.account, e.event, e.occurred_at, e.received_at, e.body"
    " FROM deliveries d JOIN events e ON e.id = d.event_id"
)


@dataclass(frozen=True)
class Job:
    """A claimed delivery with what is needed to send it."""

    id: int
    destination_id: int
    webhook_id: str
    origin: str
    attempts: int  # before this attempt
    started_at: float
    event_id: int
    provider: str
    account: str
    event: str
    occurred_at: float | None
    received_at: float
    body: bytes

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Job:
        r = list(row)
        r[12] = bytes(r[12])
        return cls(*r)


@dataclass(frozen=True)
class Outcome:
    job: Job
    decision: Decision
    status: int | None
    finished_at: float


def sendable_destinations(conn: Connection, now: float) -> list[Destination]:
    """Not paused, not disabled, breaker closed or due for a probe."""
    rows = conn.fetchall(
        f"SELECT {COLUMNS} FROM destinations WHERE paused = FALSE AND disabled_reason IS NULL"
        " AND (breaker_open_until IS NULL OR breaker_open_until <= ?) ORDER BY id",
        (now,),
    )
    return [Destination.from_row(r) for r in rows]


def next_due(conn: Connection, now: float) -> float | None:
    """When something not yet due becomes due: a retry's time, or an open breaker's probe."""
    a = conn.scalar(f"SELECT min(d.next_attempt_at) FROM deliveries d WHERE {OPEN} AND d.next_attempt_at > ?", (now,))
    b = conn.scalar(
        "SELECT min(breaker_open_until) FROM destinations WHERE breaker_open_until > ?"
        " AND paused = FALSE AND disabled_reason IS NULL",
        (now,),
    )
    found = [float(x) for x in (a, b) if x is not None]
    return min(found) if found else None


def claim(
    conn: Connection,
    owner: str,
    free_slots: Callable[[Destination], int],
    now: float,
    lease_seconds: float,
    cooldown: float,
) -> tuple[list[Job], list[Destination]]:
    """Lease due deliveries, at most `free_slots(dest)` per destination; one probe for a half-open breaker.

    Call inside a transaction.
    """
    lock = " FOR UPDATE OF d SKIP LOCKED" if conn.dialect == "postgresql" else ""
    claimed: list[int] = []
    used: list[Destination] = []
    for dest in sendable_destinations(conn, now):
        half_open = dest.breaker_open_until is not None
        limit = free_slots(dest)
        if half_open:
            limit = min(limit, 1)
        if limit <= 0:
            continue
        sql = (
            f"SELECT d.id FROM deliveries d WHERE d.destination_id = ? AND {OPEN} AND d.next_attempt_at <= ?"
            " AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ?)"
        )
        params: list[Any] = [dest.id, now, now]
        if dest.ordered:
            sql += _ORDERED
            params.append(now)
        sql += " ORDER BY d.next_attempt_at, d.id LIMIT ?" + lock
        params.append(limit)
        ids = [int(r[0]) for r in conn.fetchall(sql, params)]
        if not ids:
            continue
        if half_open:
            # The probe right: whoever moves breaker_open_until forward sends the one probe.
            took = conn.execute(
                "UPDATE destinations SET breaker_open_until = ? WHERE id = ? AND breaker_open_until <= ?",
                (now + cooldown, dest.id, now),
            ).rowcount
            if not took:
                continue
        claimed.extend(ids)
        used.append(dest)
    if not claimed:
        return [], []
    marks = ", ".join("?" for _ in claimed)
    conn.execute(
        f"UPDATE deliveries SET lease_owner = ?, lease_expires_at = ? WHERE id IN ({marks})",
        [owner, now + lease_seconds, *claimed],
    )
    jobs = [Job.from_row(r) for r in conn.fetchall(f"{_JOB} WHERE d.id IN ({marks})", claimed)]
    return jobs, used


_DONE = "lease_owner = NULL, lease_expires_at = NULL, attempts = attempts + 1, last_attempt_at = ?, last_status = ?"


def record(conn: Connection, outcomes: Sequence[Outcome], owner: str, threshold: int, cooldown: float) -> None:
    """Write outcomes and each destination's breaker state (call inside a transaction)."""
    succeeded, retrying, dead, skipped = [], [], [], []
    gone: dict[int, str] = {}
    # Per destination: (a success was seen, failures since the last success), in completion order.
    breaker: dict[int, list[Any]] = defaultdict(lambda: [False, 0])
    for o in sorted(outcomes, key=lambda o: o.finished_at):
        j, d = o.job, o.decision
        if d.verdict == "skipped":  # not attempted: says nothing about the destination's health
            skipped.append((j.id, owner))
            continue
        state = breaker[j.destination_id]
        if d.verdict == "succeeded":
            succeeded.append((o.finished_at, o.status, o.finished_at, j.id, owner))
            state[0], state[1] = True, 0
            continue
        state[1] += 1
        if d.verdict == "retrying":
            retrying.append((o.finished_at, o.status, d.next_attempt_at, d.error, j.id, owner))
        else:
            dead.append((o.finished_at, o.status, d.error, j.id, owner))
            if d.verdict == "gone":
                gone[j.destination_id] = d.error or "410 Gone"
    ph = "%s" if conn.dialect == "postgresql" else "?"

    def many(sql: str, rows: list[Any]) -> None:
        if rows:
            conn.raw.cursor().executemany(sql.replace("?", ph), rows)

    many(
        f"UPDATE deliveries SET state = 'succeeded', {_DONE}, last_error = NULL, delivered_at = ?"
        " WHERE id = ? AND lease_owner = ?",
        succeeded,
    )
    many(
        f"UPDATE deliveries SET state = 'retrying', {_DONE}, next_attempt_at = ?, last_error = ?"
        " WHERE id = ? AND lease_owner = ?",
        retrying,
    )
    many(
        f"UPDATE deliveries SET state = 'dead', {_DONE}, last_error = ? WHERE id = ? AND lease_owner = ?",
        dead,
    )
    many("UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ?", skipped)
    now = time.time()
    for dest_id, (reset, failures) in breaker.items():
        opened = now + cooldown
        if reset:
            conn.execute(
                "UPDATE destinations SET consecutive_failures = ?,"
                " breaker_open_until = CASE WHEN ? >= ? THEN ? ELSE NULL END WHERE id = ?",
                (failures, failures, threshold, opened, dest_id),
            )
        else:
            conn.execute(
                "UPDATE destinations SET consecutive_failures = consecutive_failures + ?,"
                " breaker_open_until = CASE WHEN consecutive_failures + ? >= ? THEN ? ELSE breaker_open_until END"
                " WHERE id = ?",
                (failures, failures, threshold, opened, dest_id),
            )
    for dest_id, reason in gone.items():
        conn.execute(
            "UPDATE destinations SET disabled_reason = ?, disabled_at = ? WHERE id = ? AND disabled_reason IS NULL",
            (reason, now, dest_id),
        )
    if gone:
        bump_version(conn)


def release(conn: Connection, owner: str | None) -> int:
    """Give back leases: one dispatcher's (graceful stop), or all of them (SQLite start: the only dispatcher)."""
    sql = "UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE "
    if owner is None:
        return int(conn.execute(sql + "lease_owner IS NOT NULL").rowcount)
    return int(conn.execute(sql + "lease_owner = ?", (owner,)).rowcount)


def cycle(
    conn: Connection,
    outcomes: Sequence[Outcome],
    owner: str,
    free_slots: Callable[[Destination], int],
    lease_seconds: float,
    threshold: int,
    cooldown: float,
) -> tuple[list[Job], list[Destination], float | None]:
    """One dispatcher turn, inside one transaction: record outcomes, then claim what is due.

    Recording first matters: a finished delivery unblocks the next one of its resource (ordering) and
    updates the breaker before anything new is claimed. Returns the jobs, their destinations, and when
    the next not-yet-due delivery or breaker probe comes due.
    """
    if outcomes:
        record(conn, outcomes, owner, threshold, cooldown)
    now = time.time()
    jobs, dests = claim(conn, owner, free_slots, now, lease_seconds, cooldown)
    # With jobs out, their completions wake the dispatcher anyway: the next turn looks ahead instead.
    return jobs, dests, None if jobs else next_due(conn, now)
