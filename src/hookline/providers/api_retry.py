"""One retry rule for the providers' API clients (Calendly, monday.com), on tenacity.

A client wraps one attempt of a request in `with_retries`. An attempt that gets 429 or a 5xx raises
`RetryableAnswer` (with the answer's Retry-After); a dropped or refused connection and a timeout are
aiohttp's own errors. What is retried:
- 429: always (the server did nothing), after Retry-After (seconds or an HTTP date) when it is given;
- 5xx, a dropped connection: only an idempotent request (a POST that creates something may have done
  so), except a refused connection, which never reached the server, retried always;
- a timeout: never (it already waited the client's whole timeout);
with exponential backoff and full jitter otherwise. A Retry-After longer than `max_wait` is not
waited for: the last error goes back to the caller, which turns it into its own message.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
from tenacity import AsyncRetrying, RetryCallState

from hookline.retry_after import parse_retry_after

T = TypeVar("T")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class RetryableAnswer(Exception):
    """The server answered with a status worth another try (429, 5xx)."""

    def __init__(self, status: int, retry_after: float | None, body: object = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after
        self.body = body

    @classmethod
    def check(cls, resp: aiohttp.ClientResponse, body: object = None) -> None:
        """Raise for an answer worth retrying; return for anything else."""
        if resp.status in RETRY_STATUSES:
            raise cls(resp.status, parse_retry_after(resp.headers.get("retry-after"), time.time()), body)


@dataclass(frozen=True)
class RetryRules:
    attempts: int = 4  # in all, the first included
    backoff_base: float = 0.5
    backoff_max: float = 10.0
    max_wait: float = 30.0  # the longest Retry-After we wait for

    def _retryable(self, exc: BaseException | None, idempotent: bool) -> bool:
        if isinstance(exc, RetryableAnswer):
            if exc.retry_after is not None and exc.retry_after > self.max_wait:
                return False
            return exc.status == 429 or idempotent
        if isinstance(exc, aiohttp.ClientConnectorError):
            return True  # never reached the server
        # A timeout already waited the whole client timeout (30 s): not multiplied by the attempts.
        return idempotent and isinstance(exc, aiohttp.ClientError) and not isinstance(exc, TimeoutError)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, RetryableAnswer) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_wait)
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2**state.attempt_number))


DEFAULT_RULES = RetryRules()


async def with_retries(
    attempt: Callable[[], Awaitable[T]], *, idempotent: bool, rules: RetryRules = DEFAULT_RULES
) -> T:
    """Run `attempt` until it returns, or raise the last error once the rules say stop."""
    retrying = AsyncRetrying(
        stop=lambda state: state.attempt_number >= rules.attempts,
        wait=rules._wait,
        retry=lambda state: state.outcome is not None
        and state.outcome.failed
        and rules._retryable(state.outcome.exception(), idempotent),
        reraise=True,
    )
    return await retrying(attempt)
