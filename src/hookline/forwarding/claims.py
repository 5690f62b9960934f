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

from hookline.forwarding.destinations import Destination, bump_version
from hookline.forwarding.policy import Decision
from hookline.store.engine import Connection
from hookline.store.events import StoredEvent, load_events
from hookline.store.queries import load_queries

Q = load_queries(__package__)


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
    def of(cls, delivery: Sequence[Any], ev: StoredEvent) -> Job:
        """From a claimed_deliveries row (its last column the event id) and its event."""
        delivery_id, destination_id, webhook_id, origin, attempts, started_at, _ = delivery
        return cls(
            delivery_id, destination_id, webhook_id, origin, attempts, started_at,
            ev.id, ev.provider, ev.account, ev.event, ev.occurred_at, ev.received_at, ev.body,
        )


@dataclass(frozen=True)
class Outcome:
    job: Job
    decision: Decision
    status: int | None
    finished_at: float


def sendable_destinations(conn: Connection, now: float) -> list[Destination]:
    """Not paused, not disabled, breaker closed or due for a probe."""
    rows = conn.fetchall(Q.sendable_destinations, (now,))
    return [Destination.from_row(r) for r in rows]


def next_due(conn: Connection, now: float) -> float | None:
    """When something not yet due becomes due: a retry's time, or an open breaker's probe."""
    a = conn.scalar(Q.next_retry_due, (now,))
    b = conn.scalar(Q.next_probe_due, (now,))
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
    claimed: list[int] = []
    used: list[Destination] = []
    for dest in sendable_destinations(conn, now):
        half_open = dest.breaker_open_until is not None
        limit = free_slots(dest)
        if half_open:
            limit = min(limit, 1)
        if limit <= 0:
            continue
        if dest.ordered:
            rows = conn.fetchall(Q.due_ordered_deliveries, (dest.id, now, now, now, limit))
        else:
            rows = conn.fetchall(Q.due_deliveries, (dest.id, now, now, limit))
        ids = [int(r[0]) for r in rows]
        if not ids:
            continue
        if half_open:
            # The probe right: whoever moves breaker_open_until forward sends the one probe.
            took = conn.execute(Q.take_probe, (now + cooldown, dest.id, now)).rowcount
            if not took:
                continue
        claimed.extend(ids)
        used.append(dest)
    if not claimed:
        return [], []
    conn.execute(Q.lease_deliveries, (owner, now + lease_seconds, conn.array(claimed)))
    rows = conn.fetchall(Q.claimed_deliveries, (conn.array(claimed),))
    events = {ev.id: ev for ev in load_events(conn, sorted({int(r[6]) for r in rows}))}
    jobs = [Job.of(r, events[int(r[6])]) for r in rows if int(r[6]) in events]
    return jobs, used


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
    conn.executemany(Q.delivery_succeeded, succeeded)
    conn.executemany(Q.delivery_retrying, retrying)
    conn.executemany(Q.delivery_dead, dead)
    conn.executemany(Q.delivery_unleased, skipped)
    now = time.time()
    for dest_id, (reset, failures) in breaker.items():
        opened = now + cooldown
        if reset:
            conn.execute(Q.breaker_after_success, (failures, failures, threshold, opened, dest_id))
        else:
            conn.execute(Q.breaker_after_failures, (failures, failures, threshold, opened, dest_id))
    for dest_id, reason in gone.items():
        conn.execute(Q.disable_gone_destination, (reason, now, dest_id))
    if gone:
        bump_version(conn)


def release(conn: Connection, owner: str | None) -> int:
    """Give back leases: one dispatcher's (graceful stop), or all of them (SQLite start: the only dispatcher)."""
    if owner is None:
        return int(conn.execute(Q.release_all_leases).rowcount)
    return int(conn.execute(Q.release_leases, (owner,)).rowcount)


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
