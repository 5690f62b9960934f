"""Wrap-up durations per agent and day, kept by the projection (issue 16; migration 0008).

Analytics pairs each user.wut_start with the agent's next wrap-up event when that is a user.wut_end,
in the log's order (occurred_at, event id), and counts a pair in a period when both events fall in
it. Reading a year of the log for that took seconds; here every wrap-up event is written once to
aircall_wrap_up_events and its pairs summed into aircall_wrap_up_days by (start day, end day, agent),
so a report reads O(days x agents) rows.

An event arriving late lands between two events already stored: the pair those two made (if any)
is taken back and the event's own pairs added, so any order of arrival, and any number of
re-deliveries (the insert is idempotent), gives the rows the pairing of the whole log would give.
Reading the neighbours and writing the pairs must not interleave with another worker's on the same
agent: on PostgreSQL each agent's events are written under a transaction-scoped advisory lock,
taken in sorted order after the batch's row locks (the same order in every worker: no deadlock).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

from hookline.store.engine import Connection
from hookline.store.queries import load_queries

Q = load_queries(__package__)

_LOCK = 728_115_016  # the advisory-lock namespace of an agent's wrap-up events
_DAY = 86_400
_MAX_ID_DIGITS = 18  # a BIGINT user id; longer "ids" are not agents the report could name


class WrapUp(NamedTuple):
    """One wrap-up event of the log, as the pairing sees it."""

    account: str
    resource_id: str
    occurred_at: float
    event_id: int
    start: bool


def agent_id(resource_id: str) -> int | None:
    """The agent a wrap-up event counts for: only ids made of digits (as the report always read them)."""
    ok = resource_id.isascii() and resource_id.isdigit() and len(resource_id) <= _MAX_ID_DIGITS
    return int(resource_id) if ok else None


def write(conn: Connection, events: Iterable[WrapUp]) -> None:
    """Store the batch's wrap-up events and update their pairs (in the caller's transaction)."""
    todo = sorted(set(events))
    for key in sorted({(e.account, e.resource_id) for e in todo}):
        conn.lock_until_commit(_LOCK, f"{key[0]}/{key[1]}")  # a clash only serialises more
    for e in todo:
        _add(conn, e)


def _add(conn: Connection, e: WrapUp) -> None:
    user = agent_id(e.resource_id)
    if user is None:
        return
    if conn.fetchone(Q.wrap_up_insert, (e.account, e.resource_id, e.occurred_at, e.event_id, int(e.start))) is None:
        return  # already counted
    around = (e.account, e.resource_id, e.occurred_at, e.occurred_at, e.event_id)
    before = conn.fetchone(Q.wrap_up_before, around)
    after = conn.fetchone(Q.wrap_up_after, around)
    prev_start = before is not None and bool(before[1])
    next_end = after is not None and not bool(after[1])
    if prev_start and next_end:  # the pair this event splits
        _pair(conn, e.account, user, float(before[0]), float(after[0]), -1)
    if prev_start and not e.start:
        _pair(conn, e.account, user, float(before[0]), e.occurred_at, 1)
    if e.start and next_end:
        _pair(conn, e.account, user, e.occurred_at, float(after[0]), 1)


def _pair(conn: Connection, account: str, user: int, start: float, end: float, n: int) -> None:
    key = (math.floor(start / _DAY), math.floor(end / _DAY), account, user)
    conn.execute(Q.wrap_up_pair_add, (*key, n * (end - start), n))
    if n < 0:
        conn.execute(Q.wrap_up_pair_prune, key)
