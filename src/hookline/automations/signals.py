"""Events hookline notices itself, for rules: a provider's watchdog found a webhook deactivated, or
someone failed to sign in to hookline (SignInSignals, below).

Providers do not announce that they disabled a webhook, but the watchdogs find out. What they found
is appended to the event log like a webhook's event, under the provider and account concerned, with
origin `watchdog` and `known` false (the provider's catalog does not name it): the rule matcher sees
it as any other event (`aircall:hookline.webhook_deactivated`), projections skip it as an unknown
type, and forwarding never sends it (fan-out is a hook of the ingest committer, not used here). Its
dedup key is the incident's, so a watchdog pass that runs twice records it once.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
import structlog

from hookline.pipeline import jobs
from hookline.store import events as event_log
from hookline.store.engine import Database
from hookline.types import IncomingEvent

log = structlog.get_logger(__name__)
ORIGIN = "watchdog"


def record(db: Database, *, provider: str, account: str, event: str, body: dict[str, Any], key: str,
           at: float) -> int:
    """Append one event (with its pipeline job, in one transaction); returns its id."""
    incoming = IncomingEvent(
        provider=provider, account=account, event=event, dedup_key=key, body=msgspec.json.encode(body),
        received_at=time.time(), known=False, occurred_at=at, origin=ORIGIN,
    )
    conn = db.connect()
    try:
        [result] = event_log.append_batch(conn, [incoming], [jobs.enqueue_hook()])
    finally:
        conn.close()
    return result.id


# Failed sign-ins to hookline itself (the dashboard's /login and Bearer tokens on /api), as events
# of the internal provider INTERNAL, for the `hookline-failed-sign-ins` ready rule.
INTERNAL = "hookline"
SIGN_IN_FAILED = "auth.sign_in_failed"
SIGN_IN_ACCOUNT = "local"
SIGN_IN_EVENTS_PER_MINUTE = 120  # per process, past the throttle's per-address limit: a flood is not a write load
_FIELD_MAX = 100


def sign_in_body(address: str, path: str, surface: str, at: float) -> dict[str, Any]:
    """What the event holds: where the attempt came from and what it tried, never what it presented.

    The address is the peer's (or a trusted proxy's X-Forwarded-For); the path is the route that
    refused; nothing of the request's body or headers is kept (hookline signs in with a token, so
    there is no user name to record). Each value is cut to 100 characters.
    """
    data = {"address": address[:_FIELD_MAX], "path": path[:_FIELD_MAX], "surface": surface[:_FIELD_MAX]}
    return {"resource": "auth", "event": SIGN_IN_FAILED, "timestamp": at, "data": data}


class SignInSignals:
    """SignInThrottle's on_failure: each failed sign-in becomes an event in the log (written in a
    thread, never on the event loop), at most SIGN_IN_EVENTS_PER_MINUTE a minute per process; the
    rest are only counted (hookline_auth_failures_total already counts every failure)."""

    def __init__(self, db: Database, per_minute: int = SIGN_IN_EVENTS_PER_MINUTE) -> None:
        self.db = db
        self.per_minute = per_minute
        self.dropped = 0
        self._window_start = 0.0
        self._in_window = 0
        self._tasks: set[Any] = set()

    def _allowed(self, now: float) -> bool:
        if now - self._window_start >= 60.0:
            self._window_start, self._in_window = now, 0
        if self._in_window >= self.per_minute:
            self.dropped += 1
            return False
        self._in_window += 1
        return True

    def __call__(self, address: str, path: str, surface: str) -> None:
        import asyncio
        import uuid

        now = time.time()
        if not self._allowed(time.monotonic()):
            return

        def write() -> None:
            try:
                record(self.db, provider=INTERNAL, account=SIGN_IN_ACCOUNT, event=SIGN_IN_FAILED,
                       body=sign_in_body(address, path, surface, now), key=uuid.uuid4().hex, at=now)
            except Exception as exc:  # a lost signal must not turn a 401 into a 500
                log.warning("sign-in failure not recorded", error=type(exc).__name__)

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called outside the event loop: write here
            write()
            return
        task = loop.create_task(asyncio.to_thread(write))
        self._tasks.add(task)  # kept until done, so it is not collected mid-write
        task.add_done_callback(self._tasks.discard)
