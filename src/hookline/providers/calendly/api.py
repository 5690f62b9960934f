"""A small client of Calendly's API v2 (aiohttp): the user, webhook subscriptions, scheduled events.

Every list follows `pagination.next_page`. Errors become CalendlyAPIError with Calendly's own title
and message, never the token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp

from hookline.providers.api_json import decode_json
from hookline.providers.api_retry import DEFAULT_RULES, RetryableAnswer, RetryRules, with_retries
from hookline.providers.api_session import SessionOwner

PAGE_SIZE = 100


class CalendlyAPIError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _message(status: int, body: Any) -> str:
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("title", "message") if body.get(k)]
        details = body.get("details")
        if isinstance(details, list):
            parts += [
                f"{d.get('parameter')}: {d.get('message')}" if isinstance(d, dict) else str(d) for d in details[:5]
            ]
        if parts:
            return f"Calendly answered {status}: " + "; ".join(parts)
    return f"Calendly answered {status}"


class CalendlyClient(SessionOwner):
    retry_rules: RetryRules = DEFAULT_RULES  # 429, 5xx and dropped connections (tests shorten the waits)

    def __init__(self, base_url: str, token: str, session: aiohttp.ClientSession | None = None,
                 reauth: Callable[[str], Awaitable[str]] | None = None) -> None:
        super().__init__(session)
        self.base_url = base_url.rstrip("/")
        self._token = token
        # OAuth installs: given the refused token, a fresh one (refreshed, or stored by another process).
        self._reauth = reauth

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> Any:
        try:
            return await self._request(method, path, params=params, json=json)
        except CalendlyAPIError as exc:
            if exc.status != 401 or self._reauth is None:
                raise
            self._token = await self._reauth(self._token)  # once: a fresh token refused too is final
            return await self._request(method, path, params=params, json=json)

    async def _request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> Any:
        if self._session is None:
            raise RuntimeError("use `async with CalendlyClient(...)`")
        url = self.base_url + path
        headers = {"authorization": f"Bearer {self._token}", "accept": "application/json"}
        session = self._session

        async def attempt() -> Any:
            async with session.request(method, url, params=params, json=json, headers=headers) as resp:
                if resp.status == 204:
                    return None
                try:
                    body = decode_json(await resp.read())
                except ValueError:
                    body = None
                RetryableAnswer.check(resp, body)
                if resp.status >= 400:
                    raise CalendlyAPIError(resp.status, _message(resp.status, body))
                return body

        try:
            return await with_retries(attempt, idempotent=method.upper() != "POST", rules=self.retry_rules)
        except RetryableAnswer as exc:
            if exc.status == 429:
                wait = f" (retry in {exc.retry_after:.0f} s)" if exc.retry_after is not None else ""
                raise CalendlyAPIError(429, f"Calendly kept answering 429 (rate limited){wait}") from None
            raise CalendlyAPIError(exc.status, _message(exc.status, exc.body)) from None
        except aiohttp.ClientError as exc:
            raise CalendlyAPIError(0, f"cannot reach Calendly at {self.base_url}: {type(exc).__name__}") from exc
        except TimeoutError as exc:
            raise CalendlyAPIError(0, f"Calendly at {self.base_url} did not answer in time") from exc

    async def paginate(self, path: str, params: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        params = {**params, "count": PAGE_SIZE}
        while True:
            body = await self.request("GET", path, params=params)
            for item in (body or {}).get("collection") or []:
                yield item
            next_page = ((body or {}).get("pagination") or {}).get("next_page")
            if not next_page:
                return
            # Follow the page token on our own base URL: the token never goes to another host.
            params = dict(parse_qsl(urlsplit(next_page).query))

    async def me(self) -> dict[str, Any]:
        body = await self.request("GET", "/users/me")
        return dict(body["resource"])

    async def create_subscription(
        self,
        *,
        url: str,
        events: list[str],
        organization: str,
        scope: str,
        user: str | None = None,
        signing_key: str | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"url": url, "events": events, "organization": organization, "scope": scope}
        if user is not None and scope == "user":
            payload["user"] = user
        if signing_key is not None:
            payload["signing_key"] = signing_key
        body = await self.request("POST", "/webhook_subscriptions", json=payload)
        return dict(body["resource"])

    async def subscriptions(self, organization: str, scope: str, user: str | None = None) -> list[dict[str, Any]]:
        params = {"organization": organization, "scope": scope}
        if scope == "user" and user:
            params["user"] = user
        return [s async for s in self.paginate("/webhook_subscriptions", params)]

    async def delete_subscription(self, uuid: str) -> None:
        await self.request("DELETE", f"/webhook_subscriptions/{uuid}")

    def scheduled_events(
        self,
        *,
        min_start_time: str,
        organization: str | None = None,
        user: str | None = None,
        max_start_time: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Meetings starting at or after min_start_time, of the organization (admins) or of one user."""
        params = {"min_start_time": min_start_time}
        if organization:
            params["organization"] = organization
        if user:
            params["user"] = user
        if max_start_time:
            params["max_start_time"] = max_start_time
        return self.paginate("/scheduled_events", params)

    def invitees(self, event_uuid: str) -> AsyncIterator[dict[str, Any]]:
        return self.paginate(f"/scheduled_events/{event_uuid}/invitees", {})
