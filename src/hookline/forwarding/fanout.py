"""Fan-out: one delivery row per new event x matching destination, written in the event's own transaction.

Why inside the group commit rather than a separate step: the delivery then exists exactly when the event
does (no window where an acknowledged event has no delivery, no cursor to keep), and the cost is one
indexed read per batch (the destinations version) plus one multi-row insert. The destination list is
cached in memory and reloaded only when that version changes, so a batch with no matching destination
costs a single primary-key lookup.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hookline.forwarding import deliveries
from hookline.forwarding.destinations import Destination, current_version, load_all, notify
from hookline.forwarding.patterns import EventPatterns
from hookline.store.engine import Connection
from hookline.types import AppendResult, IncomingEvent

_MEMO_MAX = 10_000


@dataclass(frozen=True)
class Target:
    """A destination compiled for matching."""

    id: int
    patterns: EventPatterns
    account: str | None
    ordered: bool

    @classmethod
    def of(cls, d: Destination) -> Target:
        return cls(d.id, EventPatterns(d.events), d.account, d.ordered)

    def wants(self, provider: str, account: str, event: str) -> bool:
        return (self.account is None or self.account == account) and self.patterns.matches(provider, event)


def ordering_key(provider: str, resource: str | None, resource_id: str | None) -> str | None:
    """Deliveries of one resource (one call) share a key; events without a resource id are unordered."""
    if resource_id is None:
        return None
    return f"{provider}:{resource or ''}:{resource_id}"


class Matcher:
    """Which targets want an event, memoized per (provider, account, event)."""

    def __init__(self, targets: Sequence[Target]) -> None:
        self.targets = tuple(targets)
        self._memo: dict[tuple[str, str, str], tuple[Target, ...]] = {}

    def __call__(self, provider: str, account: str, event: str) -> tuple[Target, ...]:
        key = (provider, account, event)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= _MEMO_MAX:  # unknown event names are unbounded; keep memory bounded
                self._memo.clear()
            found = self._memo[key] = tuple(t for t in self.targets if t.wants(provider, account, event))
        return found


def delivery_rows(
    matcher: Matcher,
    event_id: int,
    provider: str,
    account: str,
    event: str,
    resource: str | None,
    resource_id: str | None,
    occurred_at: float,
    origin: str,
    now: float,
) -> list[deliveries.NewDelivery]:
    return [
        deliveries.NewDelivery(
            destination_id=t.id,
            event_id=event_id,
            origin=origin,
            ordering_key=ordering_key(provider, resource, resource_id) if t.ordered else None,
            occurred_at=occurred_at,
            now=now,
        )
        for t in matcher(provider, account, event)
    ]


class FanOut:
    """The group-commit hook (store.events.BatchHook) and its after-commit wake-up."""

    def __init__(self, wake: Callable[[], None] | None = None) -> None:
        self._wake = wake
        self._version: str | None = None
        self._matcher = Matcher(())
        self._loaded = False
        self._created = 0

    def matcher(self, conn: Connection) -> Matcher:
        version = current_version(conn)
        if not self._loaded or version != self._version:
            self._matcher = Matcher([Target.of(d) for d in load_all(conn) if d.active])
            self._version, self._loaded = version, True
        return self._matcher

    def __call__(self, conn: Connection, events: list[IncomingEvent], results: list[AppendResult]) -> None:
        self._created = 0
        matcher = self.matcher(conn)
        if not matcher.targets:
            return
        now = time.time()
        rows: list[deliveries.NewDelivery] = []
        for ev, res in zip(events, results, strict=True):
            if res.duplicate:
                continue  # forwarded when it was new; a provider's resend is not a new event
            rows.extend(
                delivery_rows(
                    matcher,
                    res.id,
                    ev.provider,
                    ev.account,
                    ev.event,
                    ev.resource,
                    ev.resource_id,
                    ev.occurred_at if ev.occurred_at is not None else ev.received_at,
                    "live",
                    now,
                )
            )
        if rows:
            deliveries.insert(conn, rows)
            notify(conn)
            self._created = len(rows)

    def after_commit(self, events: list[IncomingEvent], results: list[AppendResult]) -> None:
        if self._created and self._wake is not None:
            self._wake()
