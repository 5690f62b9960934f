"""Webhook delivery with Aircall's semantics.

For every active webhook of the account subscribed to the event: one POST of the envelope, a 5 s
timeout, anything but a 2xx (or no answer) is a failure. Failed events are retried with exponential
backoff for up to 12 hours (simulated time); after `disable_after` consecutive failures the webhook is
disabled in the state, its queue and retries are dropped, and nothing more is sent to it until it is
re-enabled: only a backfill through the API can repair that gap. Duplicates (the same body again) and
reordering (an event held back and sent after the next one) happen at configurable rates.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp

from hookline.testing.aircall.fake_api import FakeAircallState
from hookline.testing.aircall.simulator.clock import SimClock
from hookline.testing.aircall.simulator.events import Emitted

RETRY_FIRST = 30.0  # simulated seconds before the first retry; doubles each time
RETRY_MAX = 3600.0  # longest gap between two attempts
RETRY_WINDOW = 12 * 3600.0  # Aircall gives up on an event 12 h after it first failed
HOLD_MAX = 10.0  # a held-back (reordered) event waits at most this long for a next one
USER_AGENT = "hookline-simulator (Aircall webhooks)"


@dataclass
class Outgoing:
    """One event on its way to one webhook."""

    webhook_id: str
    event: str
    body: bytes
    queued_at: float  # simulated time it was first queued (the retry window starts here)
    attempts: int = 0
    duplicate: bool = False


@dataclass
class DeliveryStats:
    attempts: int = 0  # POSTs made
    delivered: int = 0  # events answered 2xx (once per event and webhook, however many attempts)
    failed: int = 0  # attempts that failed: non-2xx, timeout, connection refused
    retried: int = 0  # attempts that were retries
    duplicates_sent: int = 0  # extra copies answered 2xx
    reordered: int = 0  # events held back to be sent after the next one
    dropped: int = 0  # events given up: webhook disabled or deleted, 12 h passed, queue overflow
    disabled: int = 0  # webhooks disabled after consecutive failures


@dataclass
class _Lane:
    """The queue of one webhook."""

    webhook_id: str
    queue: deque[Outgoing] = field(default_factory=deque)
    held: Outgoing | None = None
    held_until: float = 0.0
    failures: int = 0  # consecutive
    in_flight: int = 0
    last_error: str | None = None


class Delivery:
    def __init__(
        self,
        state: FakeAircallState,
        *,
        account: str,
        clock: SimClock,
        rng: random.Random,
        timeout: float = 5.0,
        disable_after: int = 10,
        duplicate_rate: float = 0.0,
        reorder_rate: float = 0.0,
        concurrency: int = 8,
        max_pending: int = 100_000,
        on_result: Callable[[Outgoing, bool], None] | None = None,
    ) -> None:
        for name, rate in (("duplicate_rate", duplicate_rate), ("reorder_rate", reorder_rate)):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if disable_after < 1 or concurrency < 1:
            raise ValueError("disable_after and concurrency must be 1 or more")
        self.state = state
        self.account = account
        self.clock = clock
        self.rng = rng
        self.timeout = timeout
        self.disable_after = disable_after
        self.duplicate_rate = duplicate_rate
        self.reorder_rate = reorder_rate
        self.concurrency = concurrency
        self.max_pending = max_pending
        self.on_result = on_result
        self.stats = DeliveryStats()
        self._lanes: dict[str, _Lane] = {}
        self._retries: list[tuple[float, int, Outgoing]] = []
        self._seq = itertools.count()
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"User-Agent": USER_AGENT, "Content-Type": "application/json"},
            )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def settle(self) -> None:
        """Wait until every queued event has been attempted (retries and held events stay pending)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    # -- queueing -------------------------------------------------------------------------------

    def _lane(self, webhook_id: str) -> _Lane:
        lane = self._lanes.get(webhook_id)
        if lane is None:
            lane = self._lanes[webhook_id] = _Lane(webhook_id)
        return lane

    def submit(self, events: Iterable[Emitted]) -> int:
        """Queue each event for every active webhook subscribed to it; how many deliveries were queued."""
        events = list(events)
        if not events:
            return 0
        now = self.clock.now()
        hooks = [w for w in self.state.webhooks_for(self.account) if w.get("active")]
        queued = 0
        for webhook in hooks:
            wanted = set(webhook.get("events") or ())
            lane = self._lane(webhook["webhook_id"])
            for emitted in events:
                if emitted.event in wanted:
                    body = emitted.body(webhook["token"])
                    self._push(lane, Outgoing(lane.webhook_id, emitted.event, body, now))
                    queued += 1
            self._pump(lane)
        return queued

    def _push(self, lane: _Lane, item: Outgoing) -> None:
        if lane.held is None and self.reorder_rate and self.rng.random() < self.reorder_rate:
            lane.held, lane.held_until = item, item.queued_at + HOLD_MAX
            self.stats.reordered += 1
            return
        self._enqueue(lane, item)
        if lane.held is not None:  # the held event goes right after the one that overtook it
            self._enqueue(lane, lane.held)
            lane.held = None

    def _enqueue(self, lane: _Lane, item: Outgoing) -> None:
        if len(lane.queue) >= self.max_pending:
            self.stats.dropped += 1
            return
        lane.queue.append(item)

    def release_due(self) -> None:
        """Queue the retries that are due and the held events that waited long enough."""
        now = self.clock.now()
        touched: set[str] = set()
        while self._retries and self._retries[0][0] <= now:
            _, _, item = heapq.heappop(self._retries)
            if not self._active(item.webhook_id):
                self.stats.dropped += 1
                continue
            self._enqueue(self._lane(item.webhook_id), item)
            touched.add(item.webhook_id)
        for lane in self._lanes.values():
            if lane.held is not None and lane.held_until <= now:
                self._enqueue(lane, lane.held)
                lane.held = None
                touched.add(lane.webhook_id)
        for webhook_id in touched:
            self._pump(self._lanes[webhook_id])

    def flush_held(self) -> None:
        for lane in self._lanes.values():
            if lane.held is not None:
                self._enqueue(lane, lane.held)
                lane.held = None
                self._pump(lane)

    def next_due(self) -> float | None:
        """The simulated time of the next retry or held-event release, if any."""
        times = [lane.held_until for lane in self._lanes.values() if lane.held is not None]
        if self._retries:
            times.append(self._retries[0][0])
        return min(times) if times else None

    def pending(self) -> int:
        waiting = sum(len(lane.queue) + lane.in_flight + (lane.held is not None) for lane in self._lanes.values())
        return waiting + len(self._retries)

    # -- sending --------------------------------------------------------------------------------

    def _webhook(self, webhook_id: str) -> dict[str, Any] | None:
        try:
            return self.state.webhook(webhook_id)
        except KeyError:
            return None  # deleted

    def _active(self, webhook_id: str) -> bool:
        webhook = self._webhook(webhook_id)
        return webhook is not None and bool(webhook.get("active"))

    def _pump(self, lane: _Lane) -> None:
        while lane.queue and lane.in_flight < self.concurrency:
            item = lane.queue.popleft()
            lane.in_flight += 1
            task = asyncio.get_running_loop().create_task(self._send(lane, item))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, lane: _Lane, item: Outgoing) -> None:
        try:
            webhook = self._webhook(lane.webhook_id)
            if webhook is None or not webhook.get("active"):
                self.stats.dropped += 1  # disabled or deleted while queued: Aircall sends nothing
                return
            ok = await self._post(lane, str(webhook["url"]), item.body)
            self._record(lane, item, ok)
        finally:
            lane.in_flight -= 1
            self._pump(lane)

    async def _post(self, lane: _Lane, url: str, body: bytes) -> bool:
        if self._session is None:
            raise RuntimeError("Delivery.open() first")
        try:
            async with self._session.post(url, data=body, allow_redirects=False) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True
                lane.last_error = f"HTTP {response.status}"
        except TimeoutError:
            lane.last_error = f"no answer within {self.timeout:g} s"
        except aiohttp.ClientError as exc:
            lane.last_error = f"{type(exc).__name__}: {exc}"[:200]
        return False

    def _record(self, lane: _Lane, item: Outgoing, ok: bool) -> None:
        stats = self.stats
        stats.attempts += 1
        item.attempts += 1
        if item.attempts > 1:
            stats.retried += 1
        if self.on_result is not None:
            self.on_result(item, ok)
        if ok:
            lane.failures = 0
            if item.duplicate:
                stats.duplicates_sent += 1
            else:
                stats.delivered += 1
                if self.duplicate_rate and self.rng.random() < self.duplicate_rate:
                    copy = Outgoing(item.webhook_id, item.event, item.body, self.clock.now(), duplicate=True)
                    self._enqueue(lane, copy)
            return
        stats.failed += 1
        if not self._active(lane.webhook_id):  # disabled meanwhile (by us or through the API)
            stats.dropped += 1
            return
        lane.failures += 1
        if lane.failures >= self.disable_after:
            self._disable(lane)
            stats.dropped += 1
            return
        now = self.clock.now()
        due = now + min(RETRY_MAX, RETRY_FIRST * 2 ** (item.attempts - 1))
        if due - item.queued_at > RETRY_WINDOW:
            stats.dropped += 1
            return
        heapq.heappush(self._retries, (due, next(self._seq), item))

    def _disable(self, lane: _Lane) -> None:
        """What Aircall does after repeated failures: the webhook goes inactive, its backlog is lost."""
        self.state.set_webhook_active(lane.webhook_id, False)
        self.stats.disabled += 1
        lane.failures = 0
        dropped = len(lane.queue) + (lane.held is not None)
        lane.queue.clear()
        lane.held = None
        kept = [entry for entry in self._retries if entry[2].webhook_id != lane.webhook_id]
        dropped += len(self._retries) - len(kept)
        heapq.heapify(kept)
        self._retries = kept
        self.stats.dropped += dropped

    # -- reporting ------------------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        webhooks = []
        for webhook in self.state.webhooks_for(self.account):
            lane = self._lanes.get(webhook["webhook_id"])
            webhooks.append({
                "webhook_id": webhook["webhook_id"],
                "url": webhook["url"],
                "active": webhook["active"],
                "consecutive_failures": lane.failures if lane else 0,
                "last_error": lane.last_error if lane else None,
            })
        return {**asdict(self.stats), "pending": self.pending(), "webhooks": webhooks}
