"""An Aircall OAuth install, from the authorization code to a working account.

Network first, then one transaction, then clean-up: the code is exchanged, the integration and
company are read and the new webhook is created; only then does `save_install` write the account,
the installation and the webhook's token together. A failure before the commit leaves nothing in the
database (and the new webhook is deleted again); webhooks of an earlier install that point here are
deleted after the commit, so a re-install never leaves a second one behind.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from hookline.oauth import flow, installations
from hookline.oauth.flow import InstallFailed
from hookline.providers.aircall.api import AircallClient, AircallError, AuthError, Credentials
from hookline.providers.aircall.oauth_urls import PROVIDER
from hookline.providers.aircall.tokens import digest, mask
from hookline.providers.aircall.webhooks import all_events, receiver_url
from hookline.providers.kit.backfills import first_backfills
from hookline.providers.kit.credentials import box_for
from hookline.secretbox import SecretBox
from hookline.store.engine import Connection, Database
from hookline.store.queries import load_queries

if TYPE_CHECKING:
    from hookline.runtime import Runtime

log = structlog.get_logger(__name__)
Q = load_queries(__package__)

WEBHOOK_NAME = "hookline"


@dataclass(frozen=True)
class Installed:
    account: str
    company: str
    created: bool  # False: a re-install updated the account


def account_name_for(company: str, company_id: str) -> str:
    """A valid account name from the company's name (letters, digits, '-'), else from its id."""
    return installations.account_name_for(company, f"aircall-{company_id}")


def save_install(
    conn: Connection,
    box: SecretBox,
    *,
    company: str,
    company_id: str,
    integration_id: str | None,
    access_token: str,
    webhook_id: str,
    webhook_token: str,
    api_url: str,
) -> tuple[str, bool]:
    """Every database write of an install, in the caller's transaction: the account (found by the
    company's id, or named from the company, unique), its installation and the webhook's token.
    Returns (account name, created). The account keeps `api_url` (the OAuth app's API) as its own."""
    name, created = installations.account_for(
        conn, PROVIDER, company_id, account_name_for(company, company_id),
        lambda n: conn.scalar(Q.oauth_install_name_taken, (n,)) is not None)
    now = time.time()
    conn.execute(Q.oauth_install_account, (name, box.seal(access_token), now, now, api_url))
    installations.record_install(conn, PROVIDER, name, company_id, integration_id)
    # The earlier install's webhooks are deleted after the commit; their tokens go now.
    conn.execute(Q.oauth_install_drop_tokens, (name,))
    conn.execute(
        Q.oauth_install_token, (digest(webhook_token), mask(webhook_token), name, webhook_id, now)
    )
    return name, created


def mark_uninstalled(db: Database, account: str, reason: str, token_read_at: float) -> bool:
    """An OAuth account whose token Aircall refuses (401/403) is uninstalled, unless a re-install
    replaced that token since it was read; accounts with API keys are not touched."""
    with db.connection() as conn, conn.transaction():
        done = installations.mark_uninstalled(conn, PROVIDER, account, reason, token_read_at=token_read_at)
    if done:
        log.warning("aircall.oauth_uninstalled", account=account, reason=reason)
    return done


class Installer(flow.Installer):
    """Aircall's part of the callback: the integration, the company and the company's webhook."""

    provider, label = PROVIDER, "Aircall"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, box_for(runtime.settings))

    async def install(self, code: str) -> Installed:
        app = await asyncio.to_thread(self.app)
        target = receiver_url(self.runtime.settings.public_url)
        assert target is not None, "the routes refuse installs without HOOKLINE_PUBLIC_URL"
        secret, _ = self.secrets(app)
        async with self.session() as session:
            grant = await self.exchange(session, app, f"{app.api_url}/v1/oauth/token", code, secret)
            creds = Credentials.oauth(grant.access_token, account="(installing)")
            client = AircallClient(app.api_url, creds, session=session, max_retries=1, max_rate_wait=10)
            try:
                me = await client.request("GET", "integrations/me")
                company = await client.request("GET", "company")
                integration = me.get("integration") if isinstance(me, dict) else None
                info = company.get("company") if isinstance(company, dict) else None
                if not isinstance(integration, dict) or not isinstance(info, dict):
                    raise InstallFailed(502, "Aircall is unavailable", "Aircall answered without the integration "
                                        "or the company.")
                company_id = integration.get("company_id") or info.get("id")
                if company_id is None:
                    raise InstallFailed(502, "Aircall is unavailable", "Aircall did not say which company "
                                        "installed the app.")
                company_name = str(info.get("name") or f"company {company_id}")
                old = [str(h.get("webhook_id")) for h in await client.list_webhooks()
                       if str(h.get("url") or "").rstrip("/") == target]
                hook = await client.create_webhook(target, all_events(), WEBHOOK_NAME)
            except AircallError as exc:
                status = "rejected the new token" if isinstance(exc, AuthError) else "failed"
                log.error("aircall.oauth_failed", step="api", error=exc.message)
                raise InstallFailed(502, "Aircall is unavailable", f"Aircall {status} while setting up "
                                    "the installation. Try again in a few minutes.") from None
            webhook_id, token = str(hook.get("webhook_id") or ""), hook.get("token")

            async def undo() -> None:
                await self._undo_webhook(client, webhook_id)

            if not webhook_id or not isinstance(token, str) or not token:
                await undo()
                raise InstallFailed(502, "Aircall is unavailable", "Aircall created the webhook without its token.")
            integration_id = integration.get("id")
            name, created = await self.store(lambda conn: save_install(
                conn, self.box, company=company_name, company_id=str(company_id),
                integration_id=None if integration_id is None else str(integration_id),
                access_token=grant.access_token, webhook_id=webhook_id, webhook_token=token, api_url=app.api_url,
            ), undo)
            for stale in old:  # an earlier install's webhook: never two delivering here
                try:
                    await client.delete_webhook(stale)
                except AircallError as exc:
                    log.warning("aircall.oauth_stale_webhook", account=name, webhook_id=stale, error=exc.message)
        tokens = self.runtime.state.get("aircall.tokens")
        if tokens is not None:
            tokens.expire()  # the new webhook's token is accepted at once, as Calendly's and monday's installs do
        log.info("aircall.oauth_installed", account=name, created=created, webhook_id=webhook_id)
        self._first_backfill(app.api_url, name, grant.access_token)
        return Installed(name, company_name, created)

    async def _undo_webhook(self, client: AircallClient, webhook_id: str) -> None:
        if not webhook_id:
            return
        try:
            await client.delete_webhook(webhook_id)
        except AircallError as exc:
            log.error("aircall.oauth_orphan_webhook", webhook_id=webhook_id, error=exc.message)

    def _first_backfill(self, api_url: str, account: str, access_token: str) -> None:
        """The last `backfill_max_lookback` seconds, in the background: the admin's page does not wait."""
        from hookline.providers.aircall.backfill import Backfill, CommitterSink
        from hookline.providers.aircall.checkpoints import CheckpointStore
        from hookline.providers.aircall.settings import load_aircall_settings

        lookback = load_aircall_settings().backfill_max_lookback

        installed_at = time.time()  # after the install's commit: its token, not a later one

        async def run() -> None:
            until = time.time()
            creds = Credentials.oauth(access_token, account=account)
            try:
                async with AircallClient(api_url, creds) as client:
                    result = await Backfill(client, account, CommitterSink(self.runtime.committer),
                                            CheckpointStore(self.db)).run(until - lookback, until)
                log.info("aircall.oauth_backfill_done", account=account, fetched=result.fetched, new=result.new)
            except AuthError:
                await asyncio.to_thread(mark_uninstalled, self.db, account, "api_401", installed_at)
            except Exception as exc:  # the install stands; the watchdog's backfills cover later gaps
                log.error("aircall.oauth_backfill_failed", account=account, error=f"{type(exc).__name__}: {exc}")

        # Queued: a launch's hundreds of installs do not all backfill at once (kit.backfills).
        first_backfills(self.runtime).start(f"aircall-oauth-backfill-{account}", run)
