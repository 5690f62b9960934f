"""Sign-in throttling: wrong admin tokens counted per client address over a sliding minute.

/login and Bearer authentication on /api share one counter per address (they guess the same
secret). After `limit` failures within the window the address gets 429 with Retry-After until its
oldest failure leaves the window; while refused it is not checked against the token at all, so a
guesser learns nothing. Each failure is logged (address and path, never what was presented) and
counted in hookline_auth_failures_total. The count is per process: N `serve` processes behind a
load balancer let an address try at most N x limit a minute.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

import structlog
from starlette.types import Scope

from hookline.metrics import Metrics

log = structlog.get_logger(__name__)
WINDOW_SECONDS = 60.0
_MAX_ADDRESSES = 50_000  # beyond this, addresses with no failure inside the window are forgotten


def client_address(scope: Scope) -> str:
    """The client's address as uvicorn gives it (a trusted proxy's X-Forwarded-For already applied)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class SignInThrottle:
    def __init__(self, limit: int, metrics: Metrics, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._metrics = metrics
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        # Told of each failure (address, path, surface): serve records it as an event for rules.
        self.on_failure: Callable[[str, str, str], None] | None = None

    def retry_after(self, address: str, now: float | None = None) -> int | None:
        """Whole seconds until `address` may try again, or None when it may try now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._failures.get(address)
            if times is None:
                return None
            while times and times[0] <= now - self.window:
                times.popleft()
            if not times:
                del self._failures[address]
                return None
            if len(times) < self.limit:
                return None
            return max(1, math.ceil(times[0] + self.window - now))

    def refused(self, surface: str) -> None:
        self._metrics.auth_throttled.labels(surface=surface).inc()

    def failed(self, address: str, path: str, surface: str, now: float | None = None) -> None:
        """A wrong token from `address`: remembered, logged, counted."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if address not in self._failures and len(self._failures) >= _MAX_ADDRESSES:
                self._forget_stale(now)
            self._failures.setdefault(address, deque(maxlen=self.limit)).append(now)
        self._metrics.auth_failures.labels(surface=surface).inc()
        log.warning("authentication failed", address=address, path=path)
        if self.on_failure is not None:
            self.on_failure(address, path, surface)

    def _forget_stale(self, now: float) -> None:
        fresh = {a: t for a, t in self._failures.items() if t and t[-1] > now - self.window}
        if len(fresh) >= _MAX_ADDRESSES:  # a flood of distinct addresses: keep the newest half
            fresh = dict(list(fresh.items())[len(fresh) // 2 :])
        self._failures = fresh
