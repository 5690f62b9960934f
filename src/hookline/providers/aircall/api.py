"""An async client for the Aircall Public API (https://api.aircall.io/v1).

Aircall limits every company to 60 (or 120) requests a minute and serves at most 10,000 records per
list query, so the client shares one RateLimiter per account between all concurrent callers and
splits time windows until each listing fits under the cap.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import math
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import msgspec
import structlog

from hookline.providers.api_json import decode_json
from hookline.retry_after import parse_retry_after

log = structlog.get_logger(__name__)

# Aircall serves at most this many records for one list query, however it is paginated.
LIST_CAP = 10_000
MAX_PER_PAGE = 50
DEFAULT_PER_MINUTE = 60

# Which field Aircall's `from`/`to` filters compare, per resource.
_TIME_FIELDS = {"calls": "started_at"}


# --------------------------------------------------------------------------------------------- errors


class AircallError(Exception):
    """Anything the Aircall API refused or failed to do. Messages never carry secrets."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AuthError(AircallError):
    """401/403: the API ID and token (or the OAuth token) were refused."""


class NotFound(AircallError):
    """404: no such resource on this account."""


class InvalidRequest(AircallError):
    """400/422: Aircall rejected the request; the message is Aircall's own explanation."""


class ListCapReached(InvalidRequest):
    """A listing matched more records than Aircall serves for one query (LIST_CAP)."""


class WebhookLimitReached(InvalidRequest):
    """The account already has the most webhooks Aircall allows (100)."""


class RateLimited(AircallError):
    """Still rate limited (429) after the retries, or asked to wait longer than allowed."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after


class Unavailable(AircallError):
    """5xx answers or connection failures that outlasted the retries."""


# ---------------------------------------------------------------------------------------- credentials


class Credentials:
    """Basic (api_id + api_token) or OAuth bearer credentials. repr/str never show the secrets."""

    __slots__ = ("_api_id", "_api_token", "_oauth_token", "account")

    def __init__(
        self,
        api_id: str | None = None,
        api_token: str | None = None,
        *,
        oauth_token: str | None = None,
        account: str | None = None,
    ) -> None:
        basic = api_id is not None or api_token is not None
        if basic == (oauth_token is not None):
            raise ValueError("give either api_id and api_token, or oauth_token")
        if basic and not (api_id and api_token):
            raise ValueError("basic credentials need both api_id and api_token")
        self._api_id = api_id
        self._api_token = api_token
        self._oauth_token = oauth_token
        self.account = account

    @classmethod
    def basic(cls, api_id: str, api_token: str, *, account: str | None = None) -> Credentials:
        return cls(api_id, api_token, account=account)

    @classmethod
    def oauth(cls, token: str, *, account: str | None = None) -> Credentials:
        return cls(oauth_token=token, account=account)

    @property
    def scheme(self) -> str:
        return "oauth" if self._oauth_token is not None else "basic"

    @property
    def label(self) -> str:
        """How messages name the account: its configured name, else a masked API ID."""
        if self.account:
            return self.account
        if self._api_id:
            return f"api_id {self._api_id[:4]}…"
        return "(oauth)"

    def authorization(self) -> str:
        if self._oauth_token is not None:
            return f"Bearer {self._oauth_token}"
        assert self._api_id is not None and self._api_token is not None
        pair = f"{self._api_id}:{self._api_token}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def redact(self, text: str) -> str:
        """Remove the secrets from text that may echo them (e.g. an error body)."""
        for secret in (self._api_token, self._oauth_token):
            if secret:
                text = text.replace(secret, "***")
        return text

    def __repr__(self) -> str:
        return f"Credentials({self.scheme}, account={self.label!r})"

    __str__ = __repr__


# --------------------------------------------------------------------------------------- rate limiter


def _header_float(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class RateLimiter:
    """A token bucket for one Aircall account, shared by every concurrent caller.

    Without information it refills `per_minute` tokens a minute. Once responses carry
    X-AircallApi-Limit/-Remaining/-Reset, the server's count is authoritative: tokens are what the
    server says remain (less our requests still in flight) until the Reset time, when the window
    refills. A 429 blocks everyone until Retry-After or Reset.
    """

    def __init__(
        self,
        per_minute: int = DEFAULT_PER_MINUTE,
        *,
        window: float = 60.0,
        clock: Callable[[], float] = time.time,
        reset_margin: float = 0.1,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = per_minute
        self.window = window
        self._clock = clock
        # Wall clocks differ and sleeps wake early: wait a little past the announced reset.
        self._margin = reset_margin
        self._tokens = float(per_minute)
        self._stamp = clock()
        self._reset_at: float | None = None
        self._in_flight = 0
        self._lock = asyncio.Lock()
        self._changed = asyncio.Event()

    @property
    def tokens(self) -> float:
        return self._tokens

    @property
    def reset_at(self) -> float | None:
        return self._reset_at

    def _notify(self) -> None:
        # Wake the waiter so it recomputes with fresh server numbers instead of sleeping on.
        self._changed.set()
        self._changed = asyncio.Event()

    def _try_take(self, now: float) -> float:
        """Take a token and return 0, or return how long to wait before trying again."""
        if self._reset_at is not None:
            if now < self._reset_at + self._margin:
                if self._tokens >= 1:
                    self._tokens -= 1
                    return 0.0
                return self._reset_at + self._margin - now
            # The server's window is over: it refilled, less what we still have in flight.
            self._tokens = float(max(0, self.capacity - self._in_flight))
            self._reset_at = None
            self._stamp = now
        else:
            elapsed = max(0.0, now - self._stamp)
            self._tokens = min(float(self.capacity), self._tokens + elapsed * self.capacity / self.window)
            self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) * self.window / self.capacity

    async def acquire(self, max_wait: float | None = None) -> None:
        """Wait for a token; pair every acquire with one release. Raises RateLimited rather than
        wait longer than max_wait at once (e.g. the quota is spent until a Reset an hour away)."""
        async with self._lock:  # FIFO: waiters are served in arrival order
            while True:
                wait = self._try_take(self._clock())
                if wait <= 0:
                    self._in_flight += 1
                    return
                if max_wait is not None and wait > max_wait:
                    raise RateLimited(f"rate limit needs a {wait:.0f}s wait", retry_after=wait)
                changed = self._changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=wait)

    def release(self, headers: Mapping[str, str] | None = None, *, status: int | None = None) -> float | None:
        """Learn from a response's headers. After a 429 returns how long callers are blocked."""
        self._in_flight = max(0, self._in_flight - 1)
        now = self._clock()
        headers = headers or {}
        limit = _header_float(headers, "X-AircallApi-Limit")
        remaining = _header_float(headers, "X-AircallApi-Remaining")
        reset = _header_float(headers, "X-AircallApi-Reset")
        if reset is not None and reset < 1e9:
            reset = now + reset  # defensive: a relative reset (seconds from now)
        if limit is not None and limit >= 1 and int(limit) != self.capacity:
            self.capacity = int(limit)
            self._tokens = min(self._tokens, float(self.capacity))
        if status == 429:
            retry_after = parse_retry_after(headers.get("Retry-After"), now)  # seconds or an HTTP date
            until = now + (retry_after if retry_after is not None else self.window / self.capacity)
            if reset is not None and retry_after is None:
                until = max(reset, now + 0.05)
            self._tokens = 0.0
            self._reset_at = max(until, self._reset_at or 0.0)
            self._notify()
            return self._reset_at + self._margin - now
        if remaining is not None and reset is not None:
            server_tokens = float(max(0, int(remaining) - self._in_flight))
            if self._reset_at is None or reset > self._reset_at + 0.001:
                # A newer window than we knew: the server's count replaces ours.
                self._reset_at = reset
                self._tokens = server_tokens
                self._notify()
            elif reset >= self._reset_at - 0.001:
                self._tokens = min(self._tokens, server_tokens)
            # else: an answer from an older window, stale.
        return None


# --------------------------------------------------------------------------------------------- client


def _timestamp(value: Any) -> float | None:
    """Aircall timestamps are unix seconds (calls, contacts) or ISO 8601 strings (users, webhooks)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


class AircallClient:
    """The Aircall Public API for one account. Use as `async with AircallClient(...) as client:`."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        limiter: RateLimiter | None = None,
        session: aiohttp.ClientSession | None = None,
        max_retries: int = 5,
        timeout: float = 30.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_rate_wait: float = 120.0,
        connect_timeout: float | None = None,
    ) -> None:
        self.api_root = base_url.rstrip("/") + "/v1"
        self.credentials = credentials
        self.limiter = limiter if limiter is not None else RateLimiter()
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_rate_wait = max_rate_wait
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)
        self._session = session
        self._own_session = session is None

    def __repr__(self) -> str:
        return f"AircallClient({self.api_root!r}, {self.credentials!r})"

    async def __aenter__(self) -> AircallClient:
        self._ensure_session()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._own_session = True
        return self._session

    # -- transport ------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.api_root}/{path.lstrip('/')}"

    def _backoff(self, attempt: int) -> float:
        # Exponential with full jitter, so concurrent callers do not retry in lockstep.
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send one request (path relative to /v1) with rate limiting and retries; return the JSON."""
        session = self._ensure_session()
        url = self._url(path)
        headers = {"Authorization": self.credentials.authorization(), "Accept": "application/json"}
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        data = msgspec.json.encode(json) if json is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        # POST is not idempotent: after a 5xx or a dropped connection the webhook may exist already.
        idempotent = method.upper() != "POST"
        failures = 0
        throttled = 0
        while True:
            try:
                await self.limiter.acquire(max_wait=self.max_rate_wait)
            except RateLimited as exc:
                raise RateLimited(
                    f"Aircall rate limit for account {self.credentials.label} is spent for "
                    f"{exc.retry_after or 0:.0f}s, longer than max_rate_wait",
                    retry_after=exc.retry_after,
                ) from None
            answered: Mapping[str, str] | None = None
            status: int | None = None
            try:
                async with session.request(method, url, params=query or None, data=data, headers=headers) as resp:
                    answered, status = resp.headers, resp.status
                    body = await resp.read()
            except BaseException as exc:
                self.limiter.release()  # also on cancellation, or the slot would leak
                if not isinstance(exc, aiohttp.ClientError | TimeoutError):
                    raise
                safe = idempotent or isinstance(exc, aiohttp.ClientConnectorError)
                if not safe or failures >= self.max_retries:
                    raise Unavailable(
                        f"Aircall API unreachable for account {self.credentials.label}: "
                        f"{method} {urlsplit(url).path}: {type(exc).__name__}"
                    ) from None
                failures += 1
                await asyncio.sleep(self._backoff(failures))
                continue
            blocked = self.limiter.release(answered, status=status)
            assert status is not None
            if status == 429:
                throttled += 1
                wait = blocked or 0.0
                if throttled > self.max_retries or wait > self.max_rate_wait:
                    raise RateLimited(
                        f"Aircall rate limit still exceeded for account {self.credentials.label} "
                        f"after {throttled} attempts (retry in {wait:.0f}s)",
                        retry_after=wait,
                    )
                log.debug("aircall.rate_limited", account=self.credentials.label, wait=round(wait, 2))
                continue  # acquire() waits for the window to reset
            if status >= 500:
                if not idempotent or failures >= self.max_retries:
                    raise Unavailable(
                        f"Aircall API failed for account {self.credentials.label}: "
                        f"{method} {urlsplit(url).path} answered HTTP {status}",
                        status=status,
                    )
                failures += 1
                await asyncio.sleep(self._backoff(failures))
                continue
            if status >= 400:
                raise self._error(status, body, method, url)
            if not body or status == 204:
                return None
            try:
                return decode_json(body)
            except ValueError:  # msgspec's DecodeError, the json module's, invalid UTF-8
                raise Unavailable(
                    f"Aircall API answered {method} {urlsplit(url).path} with a body that is not JSON",
                    status=status,
                ) from None

    def _error(self, status: int, body: bytes, method: str, url: str) -> AircallError:
        detail = ""
        try:
            payload = msgspec.json.decode(body)
            if isinstance(payload, dict):
                parts = [str(payload[k]) for k in ("error", "message", "troubleshoot") if payload.get(k)]
                detail = ": ".join(parts)
        except msgspec.DecodeError:
            detail = body[:200].decode("utf-8", "replace").strip()
        detail = self.credentials.redact(detail)
        path = urlsplit(url).path
        where = f"{method} {path} (HTTP {status})"
        if status in (401, 403):
            return AuthError(
                f"Aircall rejected the credentials for account {self.credentials.label}: {where}",
                status=status,
            )
        if status == 404:
            return NotFound(f"Aircall has no such resource: {where}", status=status)
        lowered = detail.lower()
        if "webhook" in lowered and "limit" in lowered:
            return WebhookLimitReached(
                f"Aircall account {self.credentials.label} has reached its webhook limit: {detail}",
                status=status,
            )
        if method == "GET" and str(LIST_CAP) in detail.replace(",", "").replace(" ", ""):
            return ListCapReached(f"Aircall list cap reached: {where}: {detail}", status=status)
        return InvalidRequest(f"Aircall rejected {where}: {detail or 'no details'}", status=status)

    # -- listing --------------------------------------------------------------------------------

    def _next_path(self, link: str) -> str:
        """Follow next_page_link against our own base URL: never send credentials to another host."""
        parts = urlsplit(link)
        path = parts.path
        marker = path.find("/v1/")
        relative = path[marker + len("/v1/") :] if marker >= 0 else path.lstrip("/")
        return relative + (f"?{parts.query}" if parts.query else "")

    async def _get_page(self, path: str, params: Mapping[str, Any] | None) -> tuple[list[Any], dict[str, Any]]:
        key = path.split("?", 1)[0].split("/", 1)[0]
        body = await self.request("GET", path, params=params)
        if not isinstance(body, dict):
            raise Unavailable(f"Aircall answered GET /v1/{key} with an unexpected body")
        items = body.get(key)
        meta = body.get("meta") or {}
        return (items if isinstance(items, list) else []), (meta if isinstance(meta, dict) else {})

    async def _pages(
        self, resource: str, params: Mapping[str, Any], first: tuple[list[Any], dict[str, Any]] | None = None
    ) -> AsyncIterator[tuple[list[Any], dict[str, Any]]]:
        page = first if first is not None else await self._get_page(resource, params)
        seen_links: set[str] = set()
        served = 0
        while True:
            items, meta = page
            served += len(items)
            yield page
            link = meta.get("next_page_link")
            if not link or not items or link in seen_links:
                total = meta.get("total")
                if isinstance(total, int) and total > served and served >= LIST_CAP:
                    raise ListCapReached(
                        f"Aircall listing /v1/{resource} matched {total} records but serves only the "
                        f"first {LIST_CAP}; list by time window instead"
                    )
                return
            seen_links.add(link)
            page = await self._get_page(self._next_path(link), None)

    async def iter_list(
        self,
        resource: str,
        *,
        since: int | None = None,
        until: int | None = None,
        params: Mapping[str, Any] | None = None,
        per_page: int = MAX_PER_PAGE,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record of a list endpoint, following meta.next_page_link.

        since/until become Aircall's `from`/`to`. Raises ListCapReached past 10,000 records.
        """
        query: dict[str, Any] = {"per_page": min(per_page, MAX_PER_PAGE), **(params or {})}
        if since is not None:
            query["from"] = since
        if until is not None:
            query["to"] = until
        async for items, _meta in self._pages(resource, query):
            for item in items:
                yield item

    async def iter_window(
        self,
        resource: str,
        since: float,
        until: float,
        *,
        params: Mapping[str, Any] | None = None,
        time_field: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record created in [since, until), oldest first, splitting the window so each query fits
        under Aircall's 10,000-record cap."""
        field = time_field or _TIME_FIELDS.get(resource, "created_at")
        start, end = math.floor(since), math.ceil(until)
        async for record in self._window(resource, start, end, dict(params or {}), field, set()):
            yield record

    async def _first_page(
        self, resource: str, query: dict[str, Any]
    ) -> tuple[tuple[list[Any], dict[str, Any]] | None, bool]:
        """A window's first page (None when Aircall refuses it for the cap) and whether to split the window."""
        try:
            first = await self._get_page(resource, query)
        except ListCapReached:
            return None, True
        total = first[1].get("total")
        return first, isinstance(total, int) and total >= LIST_CAP

    async def _window(
        self, resource: str, start: int, end: int, params: dict[str, Any], field: str, skip: set[Any]
    ) -> AsyncIterator[dict[str, Any]]:
        if end <= start:
            return
        # Aircall's `to` may be inclusive: ask for [start, end] and drop what belongs to the next window.
        query = {**params, "from": start, "to": end, "order": "asc", "per_page": MAX_PER_PAGE}
        first, too_big = await self._first_page(resource, query)
        if too_big and end - start > 1:
            middle = (start + end) // 2
            async for record in self._window(resource, start, middle, params, field, skip):
                yield record
            async for record in self._window(resource, middle, end, params, field, skip):
                yield record
            return
        if first is None:
            raise ListCapReached(
                f"Aircall listing /v1/{resource} has more than {LIST_CAP} records in the second {start}"
            )
        last_second: int | None = None
        at_last: set[Any] = set()  # ids yielded in last_second, in case we must resume from it
        try:
            async for items, _meta in self._pages(resource, query, first):
                for record in items:
                    ts = _timestamp(record.get(field)) if isinstance(record, dict) else None
                    if ts is not None and not start <= ts < end:
                        continue
                    rid = record.get("id") if isinstance(record, dict) else None
                    if rid is not None and rid in skip:
                        continue
                    if ts is not None:
                        if math.floor(ts) != last_second:
                            last_second, at_last = math.floor(ts), set()
                        at_last.add(rid)
                    yield record
        except ListCapReached:
            # Records arrived while we paged and pushed the window past the cap: resume after the
            # last second we finished, skipping the records of that second we already yielded.
            if last_second is None or last_second <= start:
                raise
            async for record in self._window(resource, last_second, end, params, field, skip | at_last):
                yield record

    # -- endpoints ------------------------------------------------------------------------------

    async def ping(self) -> bool:
        body = await self.request("GET", "ping")
        return isinstance(body, dict) and body.get("ping") == "pong"

    async def list_webhooks(self) -> list[dict[str, Any]]:
        return [webhook async for webhook in self.iter_list("webhooks")]

    async def get_webhook(self, webhook_id: str) -> dict[str, Any]:
        body = await self.request("GET", f"webhooks/{webhook_id}")
        return dict(body["webhook"])

    async def create_webhook(self, url: str, events: Sequence[str], custom_name: str | None = None) -> dict[str, Any]:
        """Create a webhook for exactly `events`. The answer includes the token Aircall signs with."""
        if not events:
            # Aircall reads an empty list as "every event"; ask for that explicitly instead.
            raise ValueError("create_webhook needs at least one event (Aircall treats none as all events)")
        payload: dict[str, Any] = {"url": url, "events": list(events)}
        if custom_name is not None:
            payload["custom_name"] = custom_name
        body = await self.request("POST", "webhooks", json=payload)
        return dict(body["webhook"])

    async def update_webhook(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        custom_name: str | None = None,
        active: bool | None = None,
    ) -> dict[str, Any]:
        """Change a webhook. The events list is always sent: Aircall resets a missing or empty list
        to every event, so when `events` is None the current subscription is fetched and resent."""
        if events is None:
            events = (await self.get_webhook(webhook_id)).get("events") or []
        if not events:
            raise ValueError("update_webhook needs at least one event (Aircall treats none as all events)")
        payload: dict[str, Any] = {"events": list(events)}
        if url is not None:
            payload["url"] = url
        if custom_name is not None:
            payload["custom_name"] = custom_name
        if active is not None:
            payload["active"] = active
        body = await self.request("PUT", f"webhooks/{webhook_id}", json=payload)
        return dict(body["webhook"])

    async def delete_webhook(self, webhook_id: str) -> None:
        await self.request("DELETE", f"webhooks/{webhook_id}")

    async def get_call(self, call_id: int | str) -> dict[str, Any]:
        body = await self.request("GET", f"calls/{call_id}")
        return dict(body["call"])

    async def get_user(self, user_id: int | str) -> dict[str, Any]:
        body = await self.request("GET", f"users/{user_id}")
        return dict(body["user"])

    async def get_contact(self, contact_id: int | str) -> dict[str, Any]:
        body = await self.request("GET", f"contacts/{contact_id}")
        return dict(body["contact"])

    def _windowed(
        self, resource: str, since: float | None, until: float | None, params: Mapping[str, Any] | None
    ) -> AsyncIterator[dict[str, Any]]:
        # Without bounds, list from the epoch to a little past now so the cap still splits.
        start = 0.0 if since is None else since
        end = time.time() + 60 if until is None else until
        return self.iter_window(resource, start, end, params=params)

    def list_calls(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Calls started in [since, until), oldest first, however many there are."""
        return self._windowed("calls", since, until, params)

    def list_users(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        return self._windowed("users", since, until, params)

    def list_contacts(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        return self._windowed("contacts", since, until, params)

    def list_numbers(self, *, params: Mapping[str, Any] | None = None) -> AsyncIterator[dict[str, Any]]:
        return self.iter_list("numbers", params=params)

    def list_teams(self, *, params: Mapping[str, Any] | None = None) -> AsyncIterator[dict[str, Any]]:
        return self.iter_list("teams", params=params)

    def list_tags(self, *, params: Mapping[str, Any] | None = None) -> AsyncIterator[dict[str, Any]]:
        return self.iter_list("tags", params=params)
