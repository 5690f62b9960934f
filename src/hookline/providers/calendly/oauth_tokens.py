"""The token an API call of a Calendly account uses: its own (personal access token), or for an
OAuth installation the stored access token, refreshed before it expires and after a 401
(hookline/oauth/tokens.py: rotation stored atomically, uninstall on a refused refresh token)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp

from hookline.oauth import installations
from hookline.oauth.apps import AppStore
from hookline.oauth.tokens import Refresher, RefreshUnavailable, Uninstalled, token_url_for
from hookline.providers.calendly.accounts import Account
from hookline.providers.calendly.api import CalendlyAPIError
from hookline.providers.calendly.oauth_install import PROVIDER, holder
from hookline.secretbox import SecretBox
from hookline.store.engine import Database


def refresher(db: Database, box: SecretBox) -> Refresher | None:
    app = AppStore(db, box).get(PROVIDER)
    return None if app is None else Refresher(db, box, holder(box), app, token_url_for(app.authorize_url))


async def token_for(db: Database, box: SecretBox, account: Account, session: aiohttp.ClientSession,
                    refused: str | None = None) -> str:
    """The token to call Calendly with for `account`. CalendlyAPIError(401) when the account is
    uninstalled, (503) when its expired token cannot be refreshed now."""
    r = await asyncio.to_thread(refresher, db, box)  # a database read: not on the event loop
    try:
        token = None if r is None else await r.access_token(session, account.name, refused=refused)
    except Uninstalled as exc:
        raise CalendlyAPIError(401, str(exc)) from None
    except RefreshUnavailable as exc:
        raise CalendlyAPIError(503, str(exc)) from None
    if token is None:  # not an OAuth installation
        if refused is not None:
            raise CalendlyAPIError(401, "Calendly refused the account's token")
        return account.token
    return token


async def credentials(db: Database, box: SecretBox, account: Account, session: aiohttp.ClientSession
                      ) -> tuple[str, Callable[[str], Awaitable[str]] | None]:
    """(token, reauth) for a CalendlyClient: an installation's fresh token and how to get the next one
    after a 401; an account with its own token has no reauth (a 401 is final, as before)."""
    def installed() -> bool:
        with db.connection() as conn:
            return installations.get(conn, PROVIDER, account.name) is not None

    if not await asyncio.to_thread(installed):
        return account.token, None

    async def reauth(refused: str) -> str:
        return await token_for(db, box, account, session, refused=refused)

    return await token_for(db, box, account, session), reauth
