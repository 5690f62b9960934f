"""What an attempt's result means: succeeded, retry later (when), dead, or destination gone.

Pure functions of the attempt and the settings, so the rules are tested without any I/O.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from hookline.config import Settings

# "skipped": not attempted (its destination's breaker opened while it waited); the lease is handed back.
Verdict = Literal["succeeded", "retrying", "dead", "gone", "skipped"]
RETRY_AFTER_MAX = 3600.0  # a destination may ask us to wait, but not forever


@dataclass(frozen=True)
class Attempt:
    """One POST: `status` None when no HTTP answer came (refused, reset, timeout)."""

    status: int | None
    error: str | None = None
    retry_after: float | None = None  # seconds, from the Retry-After header
    permanent: bool = False  # no retry can succeed (the outbound policy refused the address)


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    next_attempt_at: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    max_age: float
    backoff_base: float
    backoff_max: float

    @classmethod
    def from_settings(cls, s: Settings) -> RetryPolicy:
        return cls(
            s.delivery_max_attempts,
            s.delivery_max_age_seconds,
            s.delivery_backoff_base_seconds,
            s.delivery_backoff_max_seconds,
        )

    def backoff(self, attempts: int) -> float:
        """Exponential with "equal jitter": half fixed, half random, so retries of a burst spread out."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** max(attempts - 1, 0))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def decide(self, attempt: Attempt, attempts: int, started_at: float, now: float) -> Decision:
        """`attempts` counts this one; `started_at` is when the delivery's retry budget began."""
        if attempt.status is not None and 200 <= attempt.status < 300:
            return Decision("succeeded")
        error = attempt.error or f"HTTP {attempt.status}"
        if attempt.status == 410:
            return Decision("gone", error="410 Gone: the destination asked not to be sent anything more")
        if attempt.permanent:
            return Decision("dead", error=error)
        if attempts >= self.max_attempts:
            return Decision("dead", error=f"{error} (gave up after {attempts} attempts)")
        delay = self.backoff(attempts)
        if attempt.retry_after is not None:
            delay = min(max(attempt.retry_after, 0.0), RETRY_AFTER_MAX)
        if now + delay - started_at > self.max_age:
            return Decision("dead", error=f"{error} (gave up after {int(now - started_at)} s)")
        return Decision("retrying", next_attempt_at=now + delay, error=error)
