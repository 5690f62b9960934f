"""The watchdog: recreate subscriptions Calendly disabled (or that vanished), then backfill the gap.

Calendly disables a subscription whose deliveries keep failing and offers no way to re-enable it:
the subscription is deleted and created again with the same URL, events, scope and signing key.
The gap starts when deliveries began failing (`retry_started_at`) or, when Calendly does not say,
when hookline last saw the subscription active.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog

from hookline.providers.api_session import TIMEOUT
from hookline.providers.api_urls import chosen
from hookline.providers.calendly import backfill
from hookline.providers.calendly.accounts import Account, AccountStore
from hookline.providers.calendly.api import CalendlyAPIError, CalendlyClient
from hookline.providers.calendly.keys import KeyStore, generate
from hookline.providers.calendly.receiver import occurred_at
from hookline.providers.calendly.settings import CalendlySettings
from hookline.providers.calendly.subscriptions import Managed, SubscriptionStore
from hookline.providers.kit.watchdog import CONCURRENCY, exclusive, for_each, run_every, spread_window
from hookline.secretbox import SecretBox, SecretBoxError
from hookline.store.engine import Database
from hookline.timeparse import iso

log = structlog.get_logger(__name__)

# Any constant: the same in every hookline process sharing a PostgreSQL database (kit.watchdog.exclusive).
_PG_LOCK_ID = 728_115_101


@dataclass
class Report:
    account: str
    checked: int = 0
    recreated: list[tuple[str, str]] = field(default_factory=list)  # (old uuid, new uuid)
    backfilled: int = 0
    errors: list[str] = field(default_factory=list)


SUBSCRIPTION_DISABLED = "hookline.subscription_disabled"


def record_disabled(db: Database, account: str, managed: Managed, state: str, new_uuid: str) -> int:
    """What the watchdog found, as an event for rules (automations/signals.py):
    `calendly:hookline.subscription_disabled`, its `payload` = {uuid, state, scope, recreated_as}."""
    from hookline.automations import signals

    now = time.time()
    body = {"event": SUBSCRIPTION_DISABLED, "created_at": iso(now),
            "payload": {"uuid": managed.uuid, "state": state, "scope": managed.scope, "recreated_as": new_uuid}}
    return signals.record(db, provider="calendly", account=account, event=SUBSCRIPTION_DISABLED, body=body,
                          key=f"calendly-subscription-{managed.uuid}-{state}", at=now)


def gap_start(managed: Managed, remote: dict[str, Any] | None) -> float:
    candidates = [managed.checked_at or managed.created_at]
    started = occurred_at(remote.get("retry_started_at")) if remote else None
    if started is not None:
        candidates.append(started)
    return min(candidates)


async def check_account(
    db: Database, cfg: CalendlySettings, account: Account, session: aiohttp.ClientSession, box: SecretBox
) -> Report:
    report = Report(account.name)
    subs, keys = SubscriptionStore(db), KeyStore(db, box)
    # The stores' calls go to a thread: on PostgreSQL each is a round trip, which would hold the event
    # loop (serve's requests, the other accounts' checks) meanwhile.
    managed = await asyncio.to_thread(subs.all, account.name)
    if not managed:
        return report
    if not account.organization_uri:
        report.errors.append("the account has no organization URI: run `hookline calendly account add` again")
        return report
    from hookline.providers.calendly.oauth_tokens import credentials

    token, reauth = await credentials(db, box, account, session)
    async with CalendlyClient(chosen(account.api_url, cfg.api_url), token, session, reauth) as client:
        remote: dict[str, dict[str, Any]] = {}
        for scope in sorted({m.scope for m in managed}):
            for item in await client.subscriptions(account.organization_uri, scope, account.user_uri):
                remote[str(item.get("uri", "")).rsplit("/", 1)[-1]] = item
        for m in managed:
            report.checked += 1
            found = remote.get(m.uuid)
            if found is not None and found.get("state") == "active":
                await asyncio.to_thread(subs.mark, m.uri, "active")
                if m.backfill_since is not None:  # a backfill that failed earlier: try again
                    report.backfilled += await _backfill(db, cfg, client, account, m.uri, m.backfill_since, m.scope)
                continue
            since = gap_start(m, found)
            key = await asyncio.to_thread(keys.secret, m.key_id) if m.key_id is not None else None
            key_id = m.key_id
            if key is None:  # the key was removed by hand: a new one, so events verify again
                key = generate()
                key_id = await asyncio.to_thread(keys.add, account.name, key)
            if found is not None:
                with contextlib.suppress(CalendlyAPIError):  # already gone is fine
                    await client.delete_subscription(m.uuid)
            created = await client.create_subscription(
                url=m.callback_url,
                events=m.events,
                organization=account.organization_uri,
                scope=m.scope,
                user=account.user_uri,
                signing_key=key,
            )
            # The gap is remembered with the new subscription until its backfill succeeds.
            await asyncio.to_thread(_replace, subs, m, str(created["uri"]), key_id, since)
            new_uuid = str(created["uri"]).rsplit("/", 1)[-1]
            report.recreated.append((m.uuid, new_uuid))
            await asyncio.to_thread(record_disabled, db, account.name, m, (found or {}).get("state", "missing"),
                                    new_uuid)
            log.warning(
                "calendly subscription recreated",
                account=account.name,
                old=m.uuid,
                new=new_uuid,
                was=(found or {}).get("state", "missing"),
            )
            report.backfilled += await _backfill(db, cfg, client, account, str(created["uri"]), since, m.scope)
    return report


async def _backfill(
    db: Database, cfg: CalendlySettings, client: CalendlyClient, account: Account, uri: str, since: float, scope: str
) -> int:
    added = await backfill.run(db, client, account, since, cfg.backfill_lookback_seconds, by_user=scope == "user")
    await asyncio.to_thread(SubscriptionStore(db).backfilled, uri)
    return added


def _replace(subs: SubscriptionStore, old: Managed, uri: str, key_id: int | None, since: float) -> None:
    """The recreated subscription in the old one's place, active, its gap still to backfill."""
    subs.remove(old.uri)
    subs.add(uri, old.account, old.callback_url, old.events, old.scope, key_id, backfill_since=since)
    subs.mark(uri, "active")


async def check_all(
    db: Database, cfg: CalendlySettings, box: SecretBox, account_name: str | None = None, *,
    interval: float = 0.0, concurrency: int = CONCURRENCY,
) -> list[Report] | None:
    """A report per account, or None when another process is checking right now. `concurrency`
    accounts at a time; inside `serve` (`interval` > 0) their starts are spread over most of the
    interval (kit.watchdog.for_each)."""
    with exclusive(db, _PG_LOCK_ID) as mine:
        if not mine:
            log.info("calendly watchdog: another process is checking")
            return None
        return await _check_all(db, cfg, box, account_name, interval, concurrency)


async def _check_all(db: Database, cfg: CalendlySettings, box: SecretBox, account_name: str | None,
                     interval: float, concurrency: int) -> list[Report]:
    from hookline.oauth.tokens import uninstalled_accounts

    def stored() -> list[Account]:
        with db.connection() as conn:
            gone = uninstalled_accounts(conn, "calendly")  # uninstalled: their loops stop, their data stays
        return [a for a in AccountStore(db, box).all() if a.name not in gone]

    accounts = await asyncio.to_thread(stored)
    if account_name is not None:
        accounts = [a for a in accounts if a.name == account_name]
    reports: dict[str, Report] = {}
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:

        async def one(account: Account) -> None:
            try:
                reports[account.name] = await check_account(db, cfg, account, session, box)
            except CalendlyAPIError as exc:
                reports[account.name] = Report(account.name, errors=[exc.message])
            except SecretBoxError as exc:  # the message names no secret
                reports[account.name] = Report(account.name, errors=[str(exc)])
            except Exception as exc:  # one account's surprise must not stop the others (no traceback: locals)
                reports[account.name] = Report(account.name, errors=[f"unexpected {type(exc).__name__}"])

        await for_each(accounts, one, concurrency=concurrency, over=spread_window(interval, len(accounts)))
    return [reports[a.name] for a in accounts]


async def run_forever(db: Database, cfg: CalendlySettings, box: SecretBox) -> None:
    """The background task of `serve`: check every `watchdog_interval_seconds`."""

    async def one_pass() -> None:
        for report in await check_all(db, cfg, box, interval=cfg.watchdog_interval_seconds) or []:
            for error in report.errors:
                log.error("calendly watchdog", account=report.account, error=error)

    def failed(exc: Exception) -> None:  # never let the task die: try again next round
        log.error("calendly watchdog failed", error=type(exc).__name__)

    # The pass spreads its checks over most of the interval; the next starts an interval after it began.
    await run_every(cfg.watchdog_interval_seconds, one_pass, failed, min_pause=1.0)
