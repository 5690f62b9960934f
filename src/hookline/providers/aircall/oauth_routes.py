"""GET /aircall/oauth/install and /aircall/oauth/callback: the pages Aircall sends an admin to.

Both are public (the admin is Aircall's, not hookline's) and come from the shared flow
(hookline/oauth/flow.py: the single-use state bound to the browser's cookie, every error a page);
this module says what a good callback does."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from hookline.oauth import flow
from hookline.oauth.pages import page
from hookline.providers.aircall.oauth_install import Installer
from hookline.providers.aircall.oauth_urls import PROVIDER
from hookline.runtime import Runtime


def routes(runtime: Runtime) -> list[BaseRoute]:
    installer = Installer(runtime)

    async def install(code: str, _payload: str | None, _request: Request) -> Response:
        done = await installer.install(code)
        verb = "connected" if done.created else "reconnected"
        return page(200, "Aircall connected", f"{done.company} is {verb} to hookline (account {done.account}). "
                    "Calls and other events now flow in; the last hours are being imported in the background. "
                    "You can close this page.")

    return flow.routes(flow.Flow(PROVIDER, "Aircall", runtime.db, installer.box, runtime.settings.public_url,
                                 install, scope="public_api"))
