"""Simulator: the traffic generator and the delivery over one simulated clock.

Its clock never runs ahead of the wall clock: `speed` compresses the company's day (arrivals come
`speed` times as often, calls ring and talk `speed` times shorter, see Traffic.pace), not time itself,
so every timestamp it sends and every record its API returns is real time, and a hookline receiving
it sees calls that started seconds ago, not minutes in its future.

Two ways to drive it. `start()`/`stop()` run it on the wall clock (the CLI, `hookline demo`).
`run_for(seconds)` steps a paused clock as fast as the deliveries allow, waiting for each step's
POSTs before the next: the same seed gives the same events in the same order (tests that do not
deliver to a live hookline, or whose start time lies in the past).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from typing import Any

from hookline.testing.aircall.fake_api import FakeAircallState
from hookline.testing.aircall.simulator.clock import SimClock
from hookline.testing.aircall.simulator.defaults import DEFAULT_AGENTS, DEFAULT_CALLS_PER_MINUTE, DEFAULT_SPEED
from hookline.testing.aircall.simulator.delivery import Delivery, Outgoing
from hookline.testing.aircall.simulator.events import Emitted
from hookline.testing.aircall.simulator.traffic import Traffic

TICK = 0.05  # wall-clock seconds between two steps when running live


class Simulator:
    def __init__(
        self,
        state: FakeAircallState,
        *,
        account: str | None = None,
        seed: int | None = None,
        agents: int = DEFAULT_AGENTS,
        calls_per_minute: float = DEFAULT_CALLS_PER_MINUTE,
        messages_per_minute: float | None = None,
        speed: float = DEFAULT_SPEED,
        start_at: float | None = None,
        duplicate_rate: float = 0.0,
        reorder_rate: float = 0.0,
        disable_after: int = 10,
        timeout: float = 5.0,
        concurrency: int = 8,
        on_emit: Callable[[Emitted], None] | None = None,
        on_result: Callable[[Outgoing, bool], None] | None = None,
    ) -> None:
        self.state = state
        if account is None:
            account = next(iter(state.accounts)) if len(state.accounts) == 1 else None
        if account is None:
            if state.accounts:
                raise ValueError(f"name the account to simulate: the state has {len(state.accounts)}")
            account = state.add_account("sim").name
        self.account = account
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        start = float(int(start_at if start_at is not None else time.time()))
        self._wall_clock = start_at is None  # live, its times are the wall clock's (not shifted by start_at)
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.clock = SimClock(start)  # real seconds: only the company's day is compressed
        self.traffic = Traffic(
            state,
            account=account,
            rng=random.Random(self.seed),
            start=start,
            agents=agents,
            calls_per_minute=calls_per_minute,
            messages_per_minute=messages_per_minute,
            pace=speed,
        )
        # Delivery draws from its own stream: duplicates and reordering never change the traffic.
        self.delivery = Delivery(
            state,
            account=account,
            clock=self.clock,
            rng=random.Random(self.seed ^ 0x5EED),
            timeout=timeout,
            disable_after=disable_after,
            duplicate_rate=duplicate_rate,
            reorder_rate=reorder_rate,
            concurrency=concurrency,
            on_result=on_result,
        )
        self.on_emit = on_emit
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Simulator:
        await self.delivery.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def call_ids(self) -> list[int]:
        """Every call the simulator made, in the order they started."""
        return list(self.traffic.call_ids)

    def now(self) -> float:
        return self.clock.now()

    def _step(self, until: float) -> None:
        emitted = self.traffic.advance_to(until)
        if self.on_emit is not None:
            for event in emitted:
                self.on_emit(event)
        self.delivery.submit(emitted)
        self.delivery.release_due()

    # -- stepped (tests) ------------------------------------------------------------------------

    async def run_for(self, simulated_seconds: float, *, step: float = 1.0) -> None:
        """Advance the clock by `simulated_seconds` (`speed` times as much of the company's day), `step`
        at a time, delivering as it goes."""
        if self._task is not None:
            raise RuntimeError("the simulator is running live: stop() it before stepping it")
        await self.delivery.open()
        end = self.clock.now() + simulated_seconds
        while True:
            at = min(self.clock.now() + step, end)
            self.clock.set(at)
            self._step(at)
            await self.delivery.settle()
            if at >= end:
                return

    async def drain(self, *, max_simulated: float = 24 * 3600, step: float = 1.0) -> None:
        """Send everything still held back, then keep stepping time (without new traffic) until no
        delivery is pending or `max_simulated` seconds have passed (retries wait in simulated time)."""
        await self.delivery.open()
        self.delivery.flush_held()
        await self.delivery.settle()
        deadline = self.clock.now() + max_simulated
        while self.delivery.pending() and self.clock.now() < deadline:
            due = self.delivery.next_due()
            if due is None:
                break
            self.clock.set(min(max(due, self.clock.now() + step), deadline))
            self.delivery.release_due()
            await self.delivery.settle()

    # -- live (CLI) -----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            return
        await self.delivery.open()
        if self._wall_clock:
            # Made a while ago (an API server, webhooks...), or paused: catch up with the wall clock
            # first, or every timestamp would lag it by that long.
            self.clock.set(time.time())
        self.clock.resume()
        self._task = asyncio.get_running_loop().create_task(self._live())

    async def _live(self) -> None:
        while True:
            self._step(self.clock.now())
            await asyncio.sleep(TICK)

    async def stop(self) -> None:
        """Stop generating; give what is queued a moment to go out (held events included)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            self.clock.pause()
        self.delivery.flush_held()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.delivery.settle(), timeout=self.delivery.timeout + 1)

    async def close(self) -> None:
        await self.stop()
        await self.delivery.close()

    # -- reporting ------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "seed": self.seed,
            "speed": self.speed,
            "simulated_start": self.clock.start,
            "simulated_now": round(self.clock.now(), 3),
            "calls": len(self.traffic.call_ids),
            "events_generated": self.traffic.events_emitted,
            **self.delivery.report(),
        }
