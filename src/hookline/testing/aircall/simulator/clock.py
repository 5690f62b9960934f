"""The simulator's clock: unix seconds that run with the wall clock, or are stepped by hand (tests).

The Simulator runs it at speed 1 so that what it sends is never ahead of the wall clock (its own
`speed` compresses the company's day instead, see Traffic.pace); `speed` here stays for a fast clock
in tests that deliver to no live server.
"""

from __future__ import annotations

import time


class SimClock:
    """Starts paused at `start`. `resume()` lets it run with the wall clock; `set()` steps it (tests)."""

    def __init__(self, start: float, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start
        self.speed = speed
        self._at = start  # the simulated time when last paused or set
        self._anchor: float | None = None  # monotonic time of resume() while running

    @property
    def running(self) -> bool:
        return self._anchor is not None

    def now(self) -> float:
        if self._anchor is None:
            return self._at
        return self._at + (time.monotonic() - self._anchor) * self.speed

    def resume(self) -> None:
        if self._anchor is None:
            self._anchor = time.monotonic()

    def pause(self) -> None:
        self._at = self.now()
        self._anchor = None

    def set(self, at: float) -> None:
        """Step a paused clock forward to `at` (never backwards: simulated time is monotonic)."""
        if self.running:
            raise RuntimeError("the clock is running: pause it before stepping it")
        self._at = max(self._at, at)

    def real_seconds(self, simulated: float) -> float:
        """How long `simulated` seconds last on the wall clock."""
        return simulated / self.speed
