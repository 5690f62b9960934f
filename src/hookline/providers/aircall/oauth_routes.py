"""GET /aircall/oauth/install and /aircall/oauth/callback: the pages Aircall sends an admin to.

Both are public (the admin is Aircall's, not hookline's); the callback is protected by the single-use
state bound to the browser's cookie (hookline/oauth/state.py)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import structlog
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from hookline.oauth import state as oauth_state
from hookline.oauth.pages import page
from hookline.providers.aircall.oauth_install import Installer, InstallFailed
from hookline.providers.aircall.oauth_urls import CALLBACK_PATH, INSTALL_PATH, PROVIDER, redirect_uri
from hookline.runtime import Runtime

log = structlog.get_logger(__name__)

DENIED = {"access_denied"}


def routes(runtime: Runtime) -> list[BaseRoute]:
    installer = Installer(runtime)

    async def install(request: Request) -> Response:
        public_url = runtime.settings.public_url
        redirect = redirect_uri(public_url)
        if redirect is None:
            log.error("aircall.oauth_failed", step="install", error="HOOKLINE_PUBLIC_URL is not set")
            return page(503, "Not configured", "This hookline does not know its public address "
                        "(HOOKLINE_PUBLIC_URL).")
        try:
            app = await asyncio.to_thread(installer.app)
        except InstallFailed as exc:
            log.error("aircall.oauth_failed", step="install", error=exc.message)
            return page(exc.status, exc.title, exc.message)
        browser = request.cookies.get(oauth_state.COOKIE) or oauth_state.new_browser_id()
        try:
            state = await asyncio.to_thread(oauth_state.issue, runtime.db, PROVIDER, browser)
        except oauth_state.TooManyPending as exc:
            log.warning("aircall.oauth_failed", step="install", error=str(exc))
            return page(429, "Too many installations", "Too many installations are in progress; try again "
                        "in a few minutes.")
        query = urlencode({"client_id": app.client_id, "redirect_uri": redirect, "response_type": "code",
                           "scope": "public_api", "state": state})
        response = RedirectResponse(f"{app.authorize_url}?{query}", status_code=302)
        # Lax, not Strict: the callback is a top-level navigation coming back from Aircall's site.
        response.set_cookie(oauth_state.COOKIE, browser, max_age=int(oauth_state.STATE_TTL), path="/aircall/oauth",
                            httponly=True, samesite="lax", secure=public_url is not None
                            and public_url.startswith("https://"))
        return response

    async def callback(request: Request) -> Response:
        q = request.query_params
        fresh = await asyncio.to_thread(oauth_state.consume, runtime.db, PROVIDER, q.get("state", ""),
                                        request.cookies.get(oauth_state.COOKIE))
        error = q.get("error")
        if error:
            log.info("aircall.oauth_refused", reason=error[:64])
            if error in DENIED:
                return page(403, "Installation cancelled", "The Aircall admin did not allow access, so nothing "
                            "was installed. Install the app again from Aircall to connect this account.")
            return page(400, "Installation failed", "Aircall ended the installation with an error; nothing was "
                        "installed. Try again from Aircall.")
        if not fresh:
            log.warning("aircall.oauth_failed", step="state", error="missing, expired, reused or foreign state")
            return page(400, "Installation link expired", "This installation link is expired, was used already, "
                        "or was opened in another browser. Start the installation again from Aircall.")
        code = q.get("code", "")
        if not code:
            log.warning("aircall.oauth_failed", step="callback", error="no code")
            return page(400, "Installation failed", "Aircall sent no authorization code. Start the installation "
                        "again from Aircall.")
        try:
            done = await installer.install(code)
        except InstallFailed as exc:
            log.warning("aircall.oauth_failed", step="install", status=exc.status, error=exc.message)
            return page(exc.status, exc.title, exc.message)
        verb = "connected" if done.created else "reconnected"
        return page(200, "Aircall connected", f"{done.company} is {verb} to hookline (account {done.account}). "
                    "Calls and other events now flow in; the last hours are being imported in the background. "
                    "You can close this page.")

    return [Route(INSTALL_PATH, install, methods=["GET"]), Route(CALLBACK_PATH, callback, methods=["GET"])]
