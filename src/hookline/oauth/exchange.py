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
    code_verifier: str | None = None,
    form: bool = False,
) -> Grant:
    """Trade `code` for a Grant: sent as JSON (Aircall's /v1/oauth/token), or form-encoded like RFC 6749
    says (`form`: Calendly, monday.com), with the PKCE `code_verifier` when the install made one."""
    payload = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    if code_verifier is not None:
        payload["code_verifier"] = code_verifier
    status, body = await _post(session, token_url, payload, form, provider, "the token exchange")
    if status >= 500:
        raise ProviderDown(f"{provider} answered the token exchange with HTTP {status}")
    if status >= 400:
        reason = body.get("error") if isinstance(body, dict) else None
        log.info("oauth.code_refused", provider=provider, status=status, reason=str(reason)[:100] if reason else None)
        raise CodeRefused(f"{provider} refused the authorization code (HTTP {status}): it expired or was used already")
    return grant_from(body)


class RefreshRefused(ExchangeError):
    """The provider refused the refresh token (invalid_grant, 401): the app was uninstalled or revoked."""


async def refresh_grant(
    session: aiohttp.ClientSession,
    token_url: str,
    *,
    refresh_token: str,
    client_id: str,
    client_secret: str,
    provider: str,
) -> Grant:
    """A new Grant for a refresh token (form-encoded, RFC 6749 section 6). RefreshRefused for a 400
    invalid_grant or a 401; ProviderDown for no answer, a 5xx or another 4xx (hookline's own mistake
    must not uninstall a customer)."""
    payload = {"grant_type": "refresh_token", "refresh_token": refresh_token,
               "client_id": client_id, "client_secret": client_secret}
    status, body = await _post(session, token_url, payload, True, provider, "the token refresh")
    reason = body.get("error") if isinstance(body, dict) else None
    if status == 401 or (status == 400 and reason == "invalid_grant"):
        raise RefreshRefused(f"{provider} refused the refresh token (HTTP {status}, {str(reason)[:40]})")
    if status >= 400:
        raise ProviderDown(f"{provider} answered the token refresh with HTTP {status}")
    return grant_from(body)


async def _post(session: aiohttp.ClientSession, url: str, payload: dict[str, str], form: bool, provider: str,
                what: str) -> tuple[int, Any]:
    sent = {"data": payload} if form else {"json": payload}
    try:
        async with session.post(url, timeout=TIMEOUT, **sent) as resp:  # type: ignore[arg-type]
            status = resp.status
            try:
                body = await resp.json(content_type=None)
            except ValueError:
                body = None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise ProviderDown(f"{provider} did not answer {what} ({type(exc).__name__})") from None
    return status, body
