"""Replay: new deliveries for events already in the log (a destination added late, or one that lost data)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from hookline.forwarding import deliveries
from hookline.forwarding.destinations import DestinationError, load_all, notify
from hookline.forwarding.fanout import Matcher, Target, delivery_rows
from hookline.forwarding.patterns import EventPatterns, validate
from hookline.store.engine import Database
from hookline.store.events import count_received_between, page_received_between
from hookline.timeparse import plausible

CHUNK = 1000


@dataclass(frozen=True)
class ReplayPlan:
    since: float
    until: float | None = None
    event: str | None = None  # a glob on the event name, like a destination's filter
    to: str | None = None  # one destination; else every destination that is not disabled


def targets(db: Database, plan: ReplayPlan) -> list[Target]:
    """The destinations the replay sends to; DestinationError when --to names none or a disabled one."""
    if plan.event is not None:
        try:
            validate(plan.event)
        except ValueError as exc:
            raise DestinationError(str(exc)) from exc
    with db.connection() as conn:
        found = load_all(conn)
    if plan.to is not None:
        found = [d for d in found if d.name == plan.to]
        if not found:
            raise DestinationError(f"no destination named {plan.to!r}")
        if not found[0].active:
            raise DestinationError(
                f"destination {plan.to!r} is disabled ({found[0].disabled_reason});"
                " `hookline destinations resume` it first"
            )
    return [Target.of(d) for d in found if d.active]


def count(db: Database, plan: ReplayPlan) -> int:
    with db.connection() as conn:
        return count_received_between(conn, plan.since, plan.until)


def run(db: Database, plan: ReplayPlan, advance: Callable[[int], None] = lambda n: None) -> tuple[int, int]:
    """Create the deliveries, a chunk of events per transaction; returns (events read, deliveries created)."""
    chosen = targets(db, plan)
    matcher = Matcher(chosen)
    wanted = EventPatterns([plan.event]) if plan.event else None
    last_id, seen, created = 0, 0, 0
    while True:
        with db.connection() as conn, conn.transaction():
            rows = page_received_between(conn, plan.since, plan.until, last_id, CHUNK)
            if not rows:
                break
            now = time.time()
            new: list[deliveries.NewDelivery] = []
            for event_id, provider, account, event, resource, resource_id, occurred_at, received_at in rows:
                if wanted is not None and not wanted.matches(provider, event):
                    continue
                when = plausible(occurred_at)  # an infinite time stored by an older version orders nothing
                if when is None:
                    when = received_at
                new.extend(
                    delivery_rows(
                        matcher, event_id, provider, account, event, resource, resource_id, when, "replay", now
                    )
                )
            if new:
                deliveries.insert(conn, new)
                notify(conn)
        last_id = int(rows[-1][0])
        seen += len(rows)
        created += len(new)
        advance(len(rows))
    return seen, created
