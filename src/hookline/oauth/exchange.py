"""The authorization-code exchange: POST the code with the app's credentials, get a Grant back.

Errors are split by what the admin can do about them: CodeRefused (4xx: a denied, expired or
already used code, a wrong client secret) and ProviderDown (no answer, 5xx, not JSON)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

log = structlog.get_logger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=20)


class ExchangeError(Exception):
    """A message safe to show and log (never the code, the secret or the token)."""


class CodeRefused(ExchangeError):
    pass


class ProviderDown(ExchangeError):
    pass


@dataclass(frozen=True)
class Grant:
    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None  # unix seconds; None: the token does not expire (Aircall)
    scope: str | None = None

    def __repr__(self) -> str:
        return f"Grant(scope={self.scope!r}, expires_at={self.expires_at!r})"


def grant_from(body: Any, now: float | None = None) -> Grant:
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str) or not body["access_token"]:
        raise ProviderDown("the token endpoint answered without an access_token")
    expires_in = body.get("expires_in")
    now = time.time() if now is None else now
    refresh = body.get("refresh_token")
    return Grant(
        access_token=body["access_token"],
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_at=now + float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else None,
        scope=str(body["scope"]) if body.get("scope") is not None else None,
    )


async def exchange_code(
    session: aiohttp.ClientSession,
    token_url: str,
    *,
    code: str,
    redirect_uri: str,
    client_id: str,
    client_secret: str,
    provider: str,
) -> Grant:
    """Trade `code` for a Grant (sent as JSON, which Aircall's /v1/oauth/token takes)."""
    payload = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    try:
        async with session.post(token_url, json=payload, timeout=TIMEOUT) as resp:
            status = resp.status
            try:
                body = await resp.json(content_type=None)
            except ValueError:
                body = None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise ProviderDown(f"{provider} did not answer the token exchange ({type(exc).__name__})") from None
    if status >= 500:
        raise ProviderDown(f"{provider} answered the token exchange with HTTP {status}")
    if status >= 400:
        reason = body.get("error") if isinstance(body, dict) else None
        log.info("oauth.code_refused", provider=provider, status=status, reason=str(reason)[:100] if reason else None)
        raise CodeRefused(f"{provider} refused the authorization code (HTTP {status}): it expired or was used already")
    return grant_from(body)
