"""The install and callback routes every provider's OAuth install has (Aircall, Calendly, monday.com):
`GET /<provider>/oauth/install` redirects to the provider's authorize page with a single-use state
bound to the browser by a cookie (and a PKCE challenge where the provider takes one);
`GET /<provider>/oauth/callback` takes that state back once, then hands the code to the provider's
installer. Every way it can end is a clear page (pages.py), never a 500.

`Installer` holds what every provider's installer does around its own API calls: the app and its
secrets, the code exchange, and the install's one transaction (with the provider-side clean-up when
it fails)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlencode

import aiohttp
import structlog
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from hookline.oauth import pkce
from hookline.oauth import state as oauth_state
from hookline.oauth.apps import AppStore, OAuthApp, OAuthAppError
from hookline.oauth.exchange import CodeRefused, ExchangeError, Grant, exchange_code
from hookline.oauth.pages import page
from hookline.outbound import OutboundPolicy
from hookline.secretbox import SecretBox
from hookline.store.engine import Connection, Database

if TYPE_CHECKING:
    from hookline.runtime import Runtime

log = structlog.get_logger(__name__)
T = TypeVar("T")


class InstallFailed(Exception):
    """What the admin's page says: an HTTP status, a title and a message (no secret)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


@dataclass(frozen=True)
class Flow:
    provider: str  # "calendly"
    label: str  # "Calendly", in pages and logs
    db: Database
    box: SecretBox
    public_url: str | None
    # (code, the state's payload: the PKCE verifier, the request) -> the page at the end of a good install
    install: Callable[[str, str | None, Request], Awaitable[Response]]
    scope: str | None = None
    pkce: bool = False
    extra: dict[str, str] = field(default_factory=dict)  # more authorize parameters

    @property
    def base(self) -> str:
        return f"/{self.provider}/oauth"

    def redirect_uri(self) -> str | None:
        return self.public_url.rstrip("/") + self.base + "/callback" if self.public_url else None

    def app(self) -> OAuthApp:
        return configured_app(self.db, self.box, self.provider, self.label)


def configured_app(db: Database, box: SecretBox, provider: str, label: str) -> OAuthApp:
    app = AppStore(db, box).get(provider)
    if app is None:
        raise InstallFailed(503, "Not configured", f"This hookline has no {label} app yet: "
                            f"`hookline {provider} oauth configure`.")
    return app


class Installer:
    """The callback's work for one provider and runtime; a provider's installer adds its API calls."""

    provider: str  # "calendly"
    label: str  # "Calendly"

    def __init__(self, runtime: Runtime, box: SecretBox) -> None:
        self.runtime = runtime
        self.db = runtime.db
        self.box = box
        self.policy = OutboundPolicy.from_settings(runtime.settings)

    def app(self) -> OAuthApp:
        return configured_app(self.db, self.box, self.provider, self.label)

    def redirect_uri(self) -> str:
        redirect = redirect_uri(self.runtime.settings.public_url, self.provider)
        assert redirect is not None, "the routes refuse installs without HOOKLINE_PUBLIC_URL"
        return redirect

    def session(self) -> aiohttp.ClientSession:
        """An HTTP session under the outbound policy (the provider's API may be any address)."""
        return aiohttp.ClientSession(connector=self.policy.connector())

    def secrets(self, app: OAuthApp, *, signing: bool = False) -> tuple[str, str | None]:
        """The app's client secret, and its webhook signing secret (required with `signing`)."""
        try:
            secret = app.client_secret(self.box)
            webhook = app.webhook_secret(self.box) if signing else None
            if signing and webhook is None:
                raise OAuthAppError("no webhook signing secret")
        except OAuthAppError as exc:
            log.error(f"{self.provider}.oauth_failed", step="app", error=str(exc))
            raise InstallFailed(503, "Not configured", f"The {self.label} app's "
                                f"{'secrets' if signing else 'secret'} cannot be read.") from None
        return secret, webhook

    async def exchange(self, session: aiohttp.ClientSession, app: OAuthApp, token_url: str, code: str,
                       secret: str, *, verifier: str | None = None, form: bool = False) -> Grant:
        """The code for tokens; a refused code or a provider that is down is the admin's page."""
        try:
            return await exchange_code(session, token_url, code=code, redirect_uri=self.redirect_uri(),
                                       client_id=app.client_id, client_secret=secret, provider=self.label,
                                       code_verifier=verifier, form=form)
        except CodeRefused as exc:
            raise InstallFailed(400, "Installation link expired", f"{exc}. Start the installation again "
                                f"from {self.label}.") from None
        except ExchangeError as exc:
            raise InstallFailed(502, f"{self.label} is unavailable", f"{exc}. Try again in a few minutes.") from None

    async def store(self, save: Callable[[Connection], T],
                    undo: Callable[[], Awaitable[None]] | None = None) -> T:
        """Every database write of the install in one transaction, off the event loop. When it fails
        nothing is kept: `undo` removes what the install made at the provider (a webhook...). An
        InstallFailed that `save` raises is the admin's page (its transaction rolled back too)."""

        def run() -> T:
            with self.db.connection() as conn, conn.transaction():
                return save(conn)

        try:
            return await asyncio.to_thread(run)
        except Exception as exc:
            if undo is not None:
                await undo()
            if isinstance(exc, InstallFailed):
                log.warning(f"{self.provider}.oauth_failed", step="store", error=exc.message)
                raise
            log.error(f"{self.provider}.oauth_failed", step="store", error=type(exc).__name__)
            raise InstallFailed(503, "Installation not saved", "hookline could not store the installation; "
                                "nothing was kept. Try again.") from None


def install_uri(public_url: str | None, provider: str) -> str | None:
    return public_url.rstrip("/") + f"/{provider}/oauth/install" if public_url else None


def redirect_uri(public_url: str | None, provider: str) -> str | None:
    return public_url.rstrip("/") + f"/{provider}/oauth/callback" if public_url else None


def set_browser_cookie(response: Response, flow: Flow, browser: str) -> None:
    # Lax, not Strict: the callback is a top-level navigation coming back from the provider's site.
    response.set_cookie(oauth_state.COOKIE, browser, max_age=int(oauth_state.STATE_TTL), path=flow.base,
                        httponly=True, samesite="lax",
                        secure=flow.public_url is not None and flow.public_url.startswith("https://"))


def routes(flow: Flow) -> list[BaseRoute]:
    name = flow.provider

    async def install(request: Request) -> Response:
        redirect = flow.redirect_uri()
        if redirect is None:
            log.error(f"{name}.oauth_failed", step="install", error="HOOKLINE_PUBLIC_URL is not set")
            return page(503, "Not configured", "This hookline does not know its public address "
                        "(HOOKLINE_PUBLIC_URL).")
        try:
            app = await asyncio.to_thread(flow.app)
        except InstallFailed as exc:
            log.error(f"{name}.oauth_failed", step="install", error=exc.message)
            return page(exc.status, exc.title, exc.message)
        browser = request.cookies.get(oauth_state.COOKIE) or oauth_state.new_browser_id()
        verifier = pkce.new_verifier() if flow.pkce else None
        try:
            state = await asyncio.to_thread(oauth_state.issue, flow.db, name, browser, payload=verifier)
        except oauth_state.TooManyPending as exc:
            log.warning(f"{name}.oauth_failed", step="install", error=str(exc))
            return page(429, "Too many installations", "Too many installations are in progress; try again "
                        "in a few minutes.")
        params = {"client_id": app.client_id, "redirect_uri": redirect, "response_type": "code", "state": state}
        if flow.scope:
            params["scope"] = flow.scope
        if verifier is not None:
            params |= {"code_challenge": pkce.challenge(verifier), "code_challenge_method": "S256"}
        response = RedirectResponse(f"{app.authorize_url}?{urlencode(params | flow.extra)}", status_code=302)
        set_browser_cookie(response, flow, browser)
        return response

    async def callback(request: Request) -> Response:
        q = request.query_params
        fresh, payload = await asyncio.to_thread(oauth_state.take, flow.db, name, q.get("state", ""),
                                                 request.cookies.get(oauth_state.COOKIE))
        error = q.get("error")
        if error:
            log.info(f"{name}.oauth_refused", reason=error[:64])
            if error == "access_denied":
                return page(403, "Installation cancelled", f"The {flow.label} admin did not allow access, so "
                            f"nothing was installed. Install the app again from {flow.label} to connect.")
            return page(400, "Installation failed", f"{flow.label} ended the installation with an error; "
                        f"nothing was installed. Try again from {flow.label}.")
        if not fresh:
            log.warning(f"{name}.oauth_failed", step="state", error="missing, expired, reused or foreign state")
            return page(400, "Installation link expired", "This installation link is expired, was used already, "
                        f"or was opened in another browser. Start the installation again from {flow.label}.")
        code = q.get("code", "")
        if not code:
            log.warning(f"{name}.oauth_failed", step="callback", error="no code")
            return page(400, "Installation failed", f"{flow.label} sent no authorization code. Start the "
                        f"installation again from {flow.label}.")
        try:
            return await flow.install(code, payload, request)
        except InstallFailed as exc:
            log.warning(f"{name}.oauth_failed", step="install", status=exc.status, error=exc.message)
            return page(exc.status, exc.title, exc.message)

    return [Route(flow.base + "/install", install, methods=["GET"]),
            Route(flow.base + "/callback", callback, methods=["GET"])]
