"""The watchdog: keeps the webhooks that deliver to this hookline active, and repairs their gaps.

Aircall deactivates a webhook after repeated delivery failures (a receiver that was down, a proxy
that answered 5xx) and then sends nothing more. On every pass, for each account, each webhook that
points here (its URL is HOOKLINE_PUBLIC_URL + /aircall/webhook, or its token is registered) and is
inactive is PUT active again with its explicit events list (an empty list would subscribe it to
every event). Each one is recorded as an incident, and the account is backfilled from shortly
before the last event received from it: max(last webhook event - margin, now - max lookback).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog

from hookline.oauth.tokens import failing_accounts, note_check
from hookline.providers.aircall.accounts import AccountError, AccountStore
from hookline.providers.aircall.api import AircallClient, AircallError, AuthError, Unavailable
from hookline.providers.aircall.backfill import Backfill, BackfillResult, EventSink
from hookline.providers.aircall.checkpoints import CheckpointStore
from hookline.providers.aircall.incidents import IncidentStore
from hookline.providers.aircall.tokens import TokenStore
from hookline.providers.aircall.webhooks import all_events, view
from hookline.providers.api_urls import chosen, with_url
from hookline.providers.kit.watchdog import CONCURRENCY, SPREAD, exclusive, for_each, run_every, spread_window
from hookline.store.engine import Database

log = structlog.get_logger(__name__)
T = TypeVar("T")

# Several `serve` processes may share one PostgreSQL database: one pass at a time among them.
_PG_LOCK_ID = 728_115_002


@dataclass
class PassReport:
    accounts: int = 0
    webhooks_here: int = 0
    reenabled: list[tuple[str, str]] = field(default_factory=list)  # (account, webhook id)
    backfills: list[BackfillResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unregistered: list[tuple[str, str]] = field(default_factory=list)  # point here, token not registered
    skipped: bool = False  # another process held the pass lock
    failures: dict[str, str] = field(default_factory=dict)  # account -> its first error of the pass


WEBHOOK_DEACTIVATED = "hookline.webhook_deactivated"


def record_deactivated(db: Database, account: str, incident: int, webhook_id: str, url: str, at: float) -> int:
    """The incident as an event for rules (automations/signals.py): `aircall:hookline.webhook_deactivated`,
    `data` = {id: the webhook's id, url, incident}; the URL's path (it may carry a token) is left out."""
    from urllib.parse import urlsplit

    from hookline.automations import signals

    parts = urlsplit(url)
    body = {"resource": "webhook", "event": WEBHOOK_DEACTIVATED, "timestamp": int(at),
            "data": {"id": webhook_id, "url": f"{parts.scheme}://{parts.netloc}", "incident": incident}}
    return signals.record(db, provider="aircall", account=account, event=WEBHOOK_DEACTIVATED, body=body,
                          key=f"aircall-incident-{incident}", at=at)


def last_webhook_event_at(db: Database, account: str) -> float | None:
    """When the newest webhook (not backfilled) event of the account was received."""
    from hookline.store.events import last_received

    with db.connection() as conn:
        return last_received(conn, "aircall", account)


class Watchdog:
    def __init__(
        self,
        db: Database,
        accounts: AccountStore,
        sink: EventSink,
        *,
        api_url: str,  # for accounts without their own (added before URLs were stored)
        public_url: str | None,
        margin: float,
        max_lookback: float,
        clock: Callable[[], float] = time.time,
        on_reenabled: Callable[[str], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        on_backfill: Callable[[str, int], None] | None = None,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.db = db
        self.concurrency = max(1, concurrency)
        self.accounts = accounts
        self.sink = sink
        self.api_url = api_url
        self.public_url = public_url
        self.margin = margin
        self.max_lookback = max_lookback
        self.clock = clock
        self.incidents = IncidentStore(db)
        self.checkpoints = CheckpointStore(db)
        self._on_reenabled = on_reenabled or (lambda account: None)
        self._on_error = on_error or (lambda account: None)
        self._on_backfill = on_backfill or (lambda account, new: None)
        self._urls: dict[str, str] = {}  # the base URL each account was last called at (for messages)

    def window(self, last_event_at: float | None, now: float) -> tuple[float, float]:
        # Whole seconds: Aircall's from/to are, and windows are checkpoint keys.
        until = float(math.ceil(now))
        floor = until - self.max_lookback
        since = floor if last_event_at is None else max(floor, last_event_at - self.margin)
        return float(min(math.floor(since), until - 1)), until

    async def run_pass(self, interval: float = 0.0) -> PassReport:
        """One pass over the active accounts; inside `serve` (`interval` > 0) their starts are spread
        over most of the interval (kit.watchdog.for_each), a command-line pass runs them at once."""
        report = PassReport()
        with exclusive(self.db, _PG_LOCK_ID) as mine:
            if not mine:
                report.skipped = True
                return report
            names = await _db(self.accounts.active_names)
            # Read once per pass: with thousands of accounts, once per account would read them all each time.
            known = {e.token_sha256 for e in await _db(TokenStore(self.db).entries)}
            failing = await _db(failing_accounts, self.db, "aircall")

            async def one(name: str) -> None:
                report.accounts += 1
                read_at = time.time()  # its credentials are read right after this
                try:
                    await self._account(name, report, known)
                except AuthError as exc:
                    self._error(report, name, _said(exc, self._urls.get(name, self.api_url)))
                    # An OAuth token Aircall refuses means the app was uninstalled (no-op for API keys).
                    from hookline.providers.aircall.oauth_install import mark_uninstalled

                    await _db(mark_uninstalled, self.db, name, f"api_{exc.status or 401}", read_at)
                    return  # uninstalled, not failing
                except AircallError as exc:
                    self._error(report, name, _said(exc, self._urls.get(name, self.api_url)))
                except AccountError as exc:
                    self._error(report, name, str(exc))
                except Exception as exc:  # one account's surprise must not stop the others
                    # No traceback: rich tracebacks print local variables, and locals hold credentials.
                    self._error(report, name, f"unexpected {type(exc).__name__}: {exc}")
                # An installed account hookline cannot work for (API down for it, a webhook left
                # disabled, a failed backfill) shows as failing on the Installations page until a pass succeeds.
                try:
                    await _db(note_check, self.db, "aircall", name, report.failures.get(name), failing)
                except Exception as exc:  # the database, briefly: the next pass says it again
                    log.error("aircall.watchdog_state_failed", account=name, error=type(exc).__name__)

            # A few companies at a time, spread over the interval; each client keeps its company's rate limit.
            await for_each(names, one, concurrency=self.concurrency, over=spread_window(interval, len(names)))
        return report

    def _error(self, report: PassReport, account: str, message: str) -> None:
        report.errors.append(f"{account}: {message}")
        report.failures.setdefault(account, message)
        log.error("aircall.watchdog_error", account=account, error=message)
        self._on_error(account)

    async def _account(self, name: str, report: PassReport, known: set[str]) -> None:
        creds = await _db(self.accounts.credentials, name)
        base = self._urls[name] = chosen(await _db(self.accounts.api_url, name), self.api_url)
        async with AircallClient(base, creds) as client:
            hooks = await client.list_webhooks()
            reopened: list[int] = []
            for hook in hooks:
                v = view(hook, self.public_url, known)
                if not v.ours:
                    continue
                report.webhooks_here += 1
                if not v.registered:
                    # Its events would be refused (401) until its token is registered.
                    report.unregistered.append((name, v.webhook_id))
                    log.warning("aircall.webhook_token_unregistered", account=name, webhook_id=v.webhook_id)
                if v.active:
                    continue
                detected = self.clock()
                incident = await _db(self.incidents.open, name, v.webhook_id, v.url, detected)
                log.warning("aircall.webhook_inactive", account=name, webhook_id=v.webhook_id, url=v.url)
                await _db(record_deactivated, self.db, name, incident, v.webhook_id, v.url, detected)
                try:
                    # Always the explicit list: Aircall reads a missing or empty one as "every event".
                    updated = await client.update_webhook(v.webhook_id, events=v.events or all_events(), active=True)
                    if not updated.get("active"):
                        raise AircallError("Aircall left the webhook inactive after the update")
                except AircallError as exc:
                    await _db(self.incidents.failed, incident, _said(exc, base))
                    self._error(report, name, f"webhook {v.webhook_id} not re-enabled: {_said(exc, base)}")
                    continue
                await _db(self.incidents.reenabled, incident, self.clock())
                log.warning("aircall.webhook_reenabled", account=name, webhook_id=v.webhook_id)
                report.reenabled.append((name, v.webhook_id))
                self._on_reenabled(name)
                reopened.append(incident)

            windows = await _db(self.incidents.unfinished, name)  # interrupted earlier: resume
            if reopened:
                last = await _db(last_webhook_event_at, self.db, name)
                since, until = self.window(last, self.clock())
                await _db(self.incidents.window, reopened, last, since, until)
                windows.setdefault((since, until), []).extend(reopened)
            for (since, until), ids in windows.items():
                log.info("aircall.backfill_started", account=name, since=since, until=until)
                try:
                    result = await Backfill(client, name, self.sink, self.checkpoints).run(since, until)
                except AircallError as exc:
                    await _db(self.incidents.backfilled, ids, 0, _said(exc, base))
                    self._error(report, name, f"backfill failed: {_said(exc, base)}")
                    continue
                await _db(self.incidents.backfilled, ids, result.new)
                report.backfills.append(result)
                self._on_backfill(name, result.new)
                log.info("aircall.backfill_done", account=name, fetched=result.fetched, new=result.new,
                         refused=result.refused)

    async def run_forever(self, interval: float) -> None:
        def failed(exc: Exception) -> None:  # e.g. the database is briefly unreachable: try again next time
            log.error("aircall.watchdog_pass_failed", error=f"{type(exc).__name__}: {exc}")

        # The pass spreads its calls over SPREAD of the interval; the next starts an interval after it began.
        await run_every(interval, lambda: self.run_pass(interval), failed, min_pause=interval * (1 - SPREAD))


def _said(exc: AircallError, base_url: str) -> str:
    """An API error's message; a network failure's names the base URL that was tried."""
    return with_url(exc.message, base_url) if isinstance(exc, Unavailable) else exc.message


async def _db(fn: Callable[..., T], *args: Any) -> T:
    """Database work off the event loop (inside `serve` the loop also answers webhooks)."""
    return await asyncio.to_thread(fn, *args)
