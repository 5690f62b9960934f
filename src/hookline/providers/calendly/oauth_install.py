"""A Calendly OAuth install: PKCE code exchange, the installer's user and organization, an
organization-scope subscription, then every database write in one transaction.

Network first: the code is exchanged (with the PKCE verifier), `GET /users/me` names the user and
organization and the new subscription is created. Only then does one transaction write the account
(its access token sealed), the installation (refresh token sealed, expiry) and the subscription. A
failure before the commit deletes the new subscription again and leaves nothing in the database;
subscriptions of an earlier install that point here are deleted only after the commit, so a re-install
that fails leaves the account with the subscription it had. Calendly allows one subscription per URL
and scope: each install's callback URL carries its own `?install=` tag, so old and new can coexist
for that moment (the receiver ignores the query).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import structlog
from starlette.requests import Request
from starlette.responses import Response

from hookline.oauth import flow, installations
from hookline.oauth.apps import OAuthApp
from hookline.oauth.exchange import Grant
from hookline.oauth.flow import Flow, InstallFailed
from hookline.oauth.pages import page
from hookline.oauth.tokens import TokenHolder, token_url_for
from hookline.providers.calendly import catalog
from hookline.providers.calendly.accounts import box_for
from hookline.providers.calendly.api import CalendlyAPIError, CalendlyClient
from hookline.providers.calendly.masking import mask
from hookline.providers.kit.backfills import first_backfills
from hookline.secretbox import SecretBox
from hookline.store.engine import Connection
from hookline.store.queries import load_queries

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from hookline.runtime import Runtime

log = structlog.get_logger(__name__)
Q = load_queries(__package__)

PROVIDER = "calendly"
DEFAULT_AUTHORIZE_URL = "https://auth.calendly.com/oauth/authorize"
DEFAULT_API_URL = "https://api.calendly.com"
WEBHOOK_PATH = "/calendly/webhook"


def events() -> list[str]:
    """Every event in the catalog (the organization scope takes them all), explicitly."""
    return sorted(catalog.CATALOG)


def holder(box: SecretBox) -> TokenHolder:
    """Installed Calendly accounts keep their access token in calendly_accounts.token (sealed)."""

    def read(conn: Connection, account: str) -> str | None:
        sealed = conn.scalar(Q.account_token, (account,))
        return None if sealed is None else box.open(str(sealed))

    def write(conn: Connection, account: str, token: str) -> None:
        conn.execute(Q.set_account_token, (box.seal(token), mask(token), account))

    return TokenHolder(PROVIDER, "Calendly", read, write)


def points_here(callback_url: str, here: str) -> bool:
    """An install's subscription to this hookline's receiver: untagged (made before tags) or with any
    install tag; one made by hand with another query is left alone."""
    url, _, query = callback_url.partition("?")
    return url.rstrip("/") == here and (not query or (query.startswith("install=") and "&" not in query))


def account_name_for(label: str, org_uri: str) -> str:
    return installations.account_name_for(label, f"calendly-{org_uri.rstrip('/').rsplit('/', 1)[-1]}")


@dataclass(frozen=True)
class Installed:
    account: str
    label: str
    created: bool


def save_install(conn: Connection, box: SecretBox, *, label: str, org_uri: str, user_uri: str, grant: Grant,
                 api_url: str, subscription_uri: str, callback_url: str) -> tuple[str, bool]:
    """Every database write of an install, in the caller's transaction; (account, created)."""
    name, created = installations.account_for(conn, PROVIDER, org_uri, account_name_for(label, org_uri),
                                              lambda n: conn.scalar(Q.account_exists, (n,)) is not None)
    now = time.time()
    conn.execute(Q.save_oauth_account, (name, box.seal(grant.access_token), mask(grant.access_token), user_uri,
                                        org_uri, now, api_url))
    installations.record_install(conn, PROVIDER, name, org_uri, None,
                                 sealed_refresh_token=box.seal(grant.refresh_token) if grant.refresh_token else None,
                                 expires_at=grant.expires_at)
    conn.execute(Q.forget_subscriptions, (name,))
    conn.execute(Q.save_subscription, (subscription_uri, name, callback_url, json.dumps(events()), now, now))
    return name, created


class Installer(flow.Installer):
    """Calendly's part of the callback: the user and organization, and the organization's subscription."""

    provider, label = PROVIDER, "Calendly"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, box_for(runtime.settings))

    async def install(self, app: OAuthApp, code: str, verifier: str | None) -> Installed:
        here = (self.runtime.settings.public_url or "").rstrip("/") + WEBHOOK_PATH
        target = f"{here}?{urlencode({'install': secrets.token_hex(4)})}"
        secret, _ = self.secrets(app, signing=True)
        async with self.session() as session:
            grant = await self.exchange(session, app, token_url_for(app.authorize_url), code, secret,
                                        verifier=verifier, form=True)
            async with CalendlyClient(app.api_url, grant.access_token, session) as client:
                try:
                    me = await client.me()
                    user_uri, org_uri = str(me.get("uri") or ""), str(me.get("current_organization") or "")
                    if not user_uri or not org_uri:
                        raise InstallFailed(502, "Calendly is unavailable", "Calendly did not say which user "
                                            "and organization installed the app.")
                    old = [str(s["uri"]) for s in await client.subscriptions(org_uri, "organization")
                           if points_here(str(s.get("callback_url") or ""), here) and s.get("uri")]
                    created = await client.create_subscription(url=target, events=events(), organization=org_uri,
                                                               scope="organization")
                except CalendlyAPIError as exc:
                    log.error("calendly.oauth_failed", step="api", error=exc.message)
                    raise InstallFailed(502, "Calendly is unavailable", "Calendly failed while setting up the "
                                        "installation. Try again in a few minutes.") from None
                sub_uri = str(created.get("uri") or "")
                label = str(me.get("slug") or me.get("name") or "")

                async def undo() -> None:
                    with contextlib.suppress(CalendlyAPIError):
                        await client.delete_subscription(sub_uri.rsplit("/", 1)[-1])

                name, fresh = await self.store(lambda conn: save_install(
                    conn, self.box, label=label, org_uri=org_uri, user_uri=user_uri, grant=grant,
                    api_url=app.api_url, subscription_uri=sub_uri, callback_url=target), undo)
                for stale in old:  # an earlier install's subscription: never two delivering here
                    try:
                        await client.delete_subscription(stale.rsplit("/", 1)[-1])
                    except CalendlyAPIError as exc:
                        log.warning("calendly.oauth_stale_subscription", account=name, subscription=stale,
                                    error=exc.message)
        keys = self.runtime.state.get("calendly.keys")
        if keys is not None:
            keys.expire()  # the new installation's events verify at once
        log.info("calendly.oauth_installed", account=name, created=fresh)
        self._first_backfill(name, grant.access_token)
        return Installed(name, label or name, fresh)

    def _first_backfill(self, account: str, access_token: str) -> None:
        """What the organization booked before the install, in the background as Aircall's install does
        (the admin's page does not wait): the watchdog's backfill of a gap that starts
        `backfill_lookback_seconds` before the install. With the install's own access token (refreshed
        only after a 401: a short-lived first token is the watchdog's to refresh)."""
        from hookline.providers.calendly import backfill
        from hookline.providers.calendly.accounts import AccountStore
        from hookline.providers.calendly.oauth_tokens import token_for
        from hookline.providers.calendly.settings import load

        lookback = load().backfill_lookback_seconds
        since = time.time() - lookback

        async def run() -> None:
            try:
                found = await asyncio.to_thread(AccountStore(self.db, self.box).get, account)
                if found is None:  # removed meanwhile
                    return
                async with self.session() as session:

                    async def reauth(refused: str) -> str:
                        return await token_for(self.db, self.box, found, session, refused=refused)

                    async with CalendlyClient(found.api_url or DEFAULT_API_URL, access_token, session,
                                              reauth) as client:
                        added = await backfill.run(self.db, client, found, since, lookback)
                log.info("calendly.oauth_backfill_done", account=account, new=added)
            except Exception as exc:  # the install stands; the watchdog's backfills cover later gaps
                log.error("calendly.oauth_backfill_failed", account=account, error=f"{type(exc).__name__}: {exc}")

        # Queued: a launch's hundreds of installs do not all backfill at once (kit.backfills).
        first_backfills(self.runtime).start(f"calendly-oauth-backfill-{account}", run)


def routes(runtime: Runtime) -> list[BaseRoute]:
    installer = Installer(runtime)
    box = installer.box

    async def install(code: str, verifier: str | None, _request: Request) -> Response:
        app = await asyncio.to_thread(the_flow.app)
        done = await installer.install(app, code, verifier)
        verb = "connected" if done.created else "reconnected"
        return page(200, "Calendly connected", f"{done.label} is {verb} to hookline (account {done.account}). "
                    "Bookings now flow in; recent ones are being imported in the background. "
                    "You can close this page.")

    the_flow = Flow(PROVIDER, "Calendly", runtime.db, box, runtime.settings.public_url, install, pkce=True)
    return flow.routes(the_flow)
