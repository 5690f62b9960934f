"""Wrap-up durations per agent and day, kept by the projection (issue 16; migration 0008).

Analytics pairs each user.wut_start with the agent's next wrap-up event when that is a user.wut_end,
in the log's order (occurred_at, event id), and counts a pair in a period when both events fall in
it. Reading a year of the log for that took seconds; here the projection writes every wrap-up event
once to aircall_wrap_up_events, and a trigger there sums its pairs into aircall_wrap_up_days by
(start day, end day, agent), so a report reads O(days x agents) rows. An event arriving late takes
back the pair it splits (migration 0008), so any order of arrival and any number of re-deliveries
give the rows the pairing of the whole log gives. One statement per batch: on PostgreSQL a round
trip per event cost more than the projection itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from hookline.pipeline.versioned import insert_many
from hookline.store.engine import Connection

_COLUMNS = ("account", "resource_id", "occurred_at", "event_id", "start")
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
    """Store the batch's wrap-up events once each (in the caller's transaction), in key order: on
    PostgreSQL the trigger takes a lock per agent, so every worker takes them in the same order."""
    rows = sorted({(e.account, e.resource_id, e.occurred_at, e.event_id, int(e.start))
                   for e in events if agent_id(e.resource_id) is not None})
    if rows:
        insert_many(conn, "aircall_wrap_up_events", _COLUMNS, rows,
                    "ON CONFLICT (account, resource_id, occurred_at, event_id) DO NOTHING")
