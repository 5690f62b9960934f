"""A fake Aircall Public API: an aiohttp application over an in-memory FakeAircallState.

It answers like Aircall does (response shapes, `meta` pagination with absolute next_page_link, the
10,000-record cap, X-AircallApi-* rate-limit headers and 429s, 401s, the 100-webhook limit,
signed expiring recording/voicemail links) so the real client is tested against real HTTP. The
state object is the single source of truth: a simulator adds calls and reads webhooks through it
while the app serves them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import bisect
import hashlib
import hmac
import itertools
import json
import math
import secrets
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec
from aiohttp import web

from hookline.providers.aircall.catalog import CATALOG

LIST_CAP = 10_000
WEBHOOK_LIMIT = 100
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 50
RECORDING_TTL = 600.0  # Aircall's recording links are short-lived (minutes)

# List endpoint -> the key of one record in a single-record answer.
RESOURCES = {
    "calls": "call",
    "users": "user",
    "contacts": "contact",
    "numbers": "number",
    "teams": "team",
    "tags": "tag",
    "webhooks": "webhook",
}
MEDIA_KINDS = {"recordings": "recording", "voicemails": "voicemail"}
# The field Aircall's `from`/`to` filter on, per resource.
TIME_FIELDS = {"calls": "started_at", "webhooks": "created_at"}

Json = dict[str, Any]


class FakeApiError(Exception):
    """An error answer in Aircall's shape: {"error": ..., "troubleshoot": ...}."""

    def __init__(self, status: int, error: str, troubleshoot: str = "") -> None:
        super().__init__(f"{status} {error}: {troubleshoot}")
        self.status = status
        self.error = error
        self.troubleshoot = troubleshoot

    def response(self) -> web.Response:
        return _json({"error": self.error, "troubleshoot": self.troubleshoot}, status=self.status)


def _json(body: Any, status: int = 200) -> web.Response:
    try:
        data = msgspec.json.encode(body)
    except UnicodeEncodeError:  # a lone surrogate a test stored: escaped (`\ud800`), as Aircall's JSON can have it
        data = json.dumps(body).encode()
    return web.Response(body=data, status=status, content_type="application/json")


def _timestamp(value: Any) -> float:
    """A sortable creation time: unix seconds, or an ISO 8601 string (users, webhooks)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return 0.0
    return 0.0


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# ------------------------------------------------------------------------------------------------ mp3


def silent_mp3(seconds: float = 1.0) -> bytes:
    """A valid MPEG-1 Layer III stream of silence: 32 kbit/s, 44.1 kHz, mono, no padding.

    Each frame is a 4-byte header then zeroed side info and main data, which decoders play as
    silence. Frame length = 144 * bitrate / sample_rate = 104 bytes; 1152 samples per frame.
    """
    header = bytes((0xFF, 0xFB, 0x10, 0xC4))  # sync, MPEG-1, Layer III, no CRC | 32k, 44.1k | mono, original
    frame = header + bytes(104 - len(header))
    frames = max(1, math.ceil(seconds * 44100 / 1152))
    return frame * frames


SILENT_MP3 = silent_mp3()


# ---------------------------------------------------------------------------------------------- state


class _Index:
    """One resource's records, kept sorted by creation time so from/to and paging are bisections."""

    def __init__(self, time_field: str) -> None:
        self.time_field = time_field
        self.records: dict[Any, Json] = {}
        self._keys: list[tuple[float, int, Any]] = []  # (time, insertion seq, id): seq keeps ties unique
        self._key_of: dict[Any, tuple[float, int, Any]] = {}
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self.records)

    def _key(self, rid: Any, record: Json) -> tuple[float, int, Any]:
        return (_timestamp(record.get(self.time_field)), next(self._seq), rid)

    def put(self, rid: Any, record: Json) -> None:
        self.remove(rid)
        key = self._key(rid, record)
        self.records[rid] = record
        self._key_of[rid] = key
        bisect.insort(self._keys, key)

    def put_many(self, records: Iterable[tuple[Any, Json]]) -> None:
        for rid, record in records:
            self.remove(rid)
            key = self._key(rid, record)
            self.records[rid] = record
            self._key_of[rid] = key
            self._keys.append(key)
        self._keys.sort()

    def remove(self, rid: Any) -> Json | None:
        key = self._key_of.pop(rid, None)
        if key is None:
            return None
        del self._keys[bisect.bisect_left(self._keys, key)]
        return self.records.pop(rid)

    def span(self, since: float | None, until: float | None) -> tuple[int, int]:
        """Index bounds of records with since <= time <= until (Aircall's from/to are inclusive)."""
        lo = 0 if since is None else bisect.bisect_left(self._keys, (since, -1, 0))
        hi = len(self._keys) if until is None else bisect.bisect_right(self._keys, (until, math.inf, 0))
        return lo, max(lo, hi)

    def ids(self, lo: int, hi: int, *, descending: bool = False) -> list[Any]:
        keys = self._keys[lo:hi]
        return [k[2] for k in (reversed(keys) if descending else keys)]


@dataclass
class FakeAccount:
    """One Aircall company: its credentials, records and rate-limit window."""

    name: str
    api_id: str
    api_token: str
    oauth_token: str | None
    company_id: int
    rate_limit: int
    rate_window: float
    company_name: str = ""
    integration_id: int | None = None  # the installed app's integration (OAuth installs)
    data: dict[str, _Index] = field(default_factory=dict)
    requests: int = 0
    throttled: int = 0
    _window: int = -1
    _used: int = 0

    def __repr__(self) -> str:  # no secrets in test output
        return f"FakeAccount({self.name!r}, company_id={self.company_id})"


@dataclass(frozen=True)
class MediaFault:
    """What one media download answers instead of the file."""

    status: int
    body: bytes
    content_type: str


@dataclass(frozen=True)
class FakeRequest:
    """One request the fake API received, for tests to inspect."""

    method: str
    path: str
    query: Mapping[str, str]
    body: Any
    account: str | None
    at: float = field(default_factory=time.monotonic)  # when it arrived (retry delays, how a pass spreads its calls)


class FakeAircallState:
    """Everything the fake Aircall knows. Mutate it directly; the app reads it on every request."""

    def __init__(
        self,
        *,
        events: Iterable[str] | None = None,
        clock: Callable[[], float] = time.time,
        recording_ttl: float = RECORDING_TTL,
        list_cap: int = LIST_CAP,
        webhook_limit: int = WEBHOOK_LIMIT,
        media_secret: bytes | None = None,
    ) -> None:
        self.events: tuple[str, ...] = tuple(events) if events is not None else tuple(CATALOG)
        self.clock = clock
        self.offset = 0.0
        self.recording_ttl = recording_ttl
        self.list_cap = list_cap
        self.webhook_limit = webhook_limit
        self.media_secret = media_secret or secrets.token_bytes(32)
        self.accounts: dict[str, FakeAccount] = {}
        self.public_url: str | None = None
        self.request_log: deque[FakeRequest] = deque(maxlen=2000)
        self._owner: dict[tuple[str, Any], str] = {}  # (resource, id) -> account name
        self._ids = itertools.count(1000)
        self._company_ids = itertools.count(100)
        self._failures: deque[tuple[int, float | None]] = deque()  # (status, Retry-After)
        self._media_faults: deque[MediaFault] = deque()
        self.media_log: deque[tuple[str, int, int]] = deque(maxlen=2000)  # (kind, call id, status) served
        # What rules' actions posted on calls, by call id, in arrival order.
        self.insight_cards: dict[int, list[Json]] = {}
        self.comments: dict[int, list[Json]] = {}
        self.call_tags: dict[int, list[int]] = {}  # tag ids added to a call
        self.transfers: dict[int, list[Json]] = {}
        self.messages: dict[int, list[Json]] = {}  # sent from a number (its id)
        self.action_log: deque[tuple[float, str, int]] = deque(maxlen=100_000)  # (arrival, kind, call id)
        # The OAuth app the fake knows, who consents on its authorize page, and the codes it issued.
        self.oauth_client_id: str | None = None
        self.oauth_client_secret: str | None = None
        self.oauth_installer: str | None = None  # the account whose admin consents; None: the only one
        self.oauth_deny = False  # the admin clicks "deny"
        self.latency = 0.0  # seconds added to each /v1 answer (benchmarks: Aircall is not on localhost)
        self.in_flight = 0  # authenticated /v1 requests being answered now, and the most seen at once
        self.max_in_flight = 0
        self.oauth_code_ttl = 60.0
        self._codes: dict[str, tuple[str, str, float]] = {}  # code -> (account, redirect_uri, expires at)

    def action_counts(self) -> dict[str, int]:
        """What rules' actions did here: insight cards, comments, tags, transfers and messages received."""
        return {
            "insight_cards": sum(len(v) for v in self.insight_cards.values()),
            "comments": sum(len(v) for v in self.comments.values()),
            "tags": sum(len(v) for v in self.call_tags.values()),
            "transfers": sum(len(v) for v in self.transfers.values()),
            "messages": sum(len(v) for v in self.messages.values()),
        }

    def call_actions(self, call_id: int) -> dict[str, list[Any]]:
        """What rules' actions posted on one call."""
        return {
            "insight_cards": list(self.insight_cards.get(call_id, [])),
            "comments": list(self.comments.get(call_id, [])),
            "tags": list(self.call_tags.get(call_id, [])),
            "transfers": list(self.transfers.get(call_id, [])),
        }

    # -- time ---------------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (expiry of media links, rate-limit windows)."""
        self.offset += seconds

    # -- accounts -----------------------------------------------------------------------------

    def add_account(
        self,
        name: str = "default",
        *,
        api_id: str | None = None,
        api_token: str | None = None,
        oauth_token: str | None = None,
        rate_limit: int = 60,
        rate_window: float = 60.0,
    ) -> FakeAccount:
        account = FakeAccount(
            name=name,
            api_id=api_id or secrets.token_hex(16),
            api_token=api_token or secrets.token_hex(16),
            oauth_token=oauth_token,
            company_id=next(self._company_ids),
            rate_limit=rate_limit,
            rate_window=rate_window,
            company_name=name.replace("-", " ").title(),
            data={res: _Index(TIME_FIELDS.get(res, "created_at")) for res in RESOURCES},
        )
        self.accounts[name] = account
        return account

    def account(self, name: str | None = None) -> FakeAccount:
        """The named account, or the only one when name is None."""
        if name is None:
            if len(self.accounts) != 1:
                raise KeyError(f"name the account: the fake has {len(self.accounts)}")
            return next(iter(self.accounts.values()))
        return self.accounts[name]

    def authenticate(self, authorization: str | None) -> FakeAccount | None:
        if not authorization:
            return None
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            for account in self.accounts.values():
                if account.oauth_token and hmac.compare_digest(account.oauth_token, value.strip()):
                    return account
            return None
        if scheme.lower() != "basic":
            return None
        try:
            api_id, _, token = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        for account in self.accounts.values():
            if hmac.compare_digest(account.api_id, api_id) and hmac.compare_digest(account.api_token, token):
                return account
        return None

    # -- OAuth (technology partners) ----------------------------------------------------------

    def set_oauth_app(self, client_id: str, client_secret: str) -> None:
        self.oauth_client_id, self.oauth_client_secret = client_id, client_secret

    def authorize(self, client_id: str, redirect_uri: str, account: str | None = None) -> str:
        """The admin of `account` consents: a single-use code that expires after oauth_code_ttl."""
        if self.oauth_client_id is None or not hmac.compare_digest(client_id, self.oauth_client_id):
            raise FakeApiError(400, "Bad Request", "unknown client_id")
        try:
            name = self.account(account or self.oauth_installer).name
        except KeyError:
            raise FakeApiError(400, "Bad Request", "which company's admin consents? set oauth_installer") from None
        code = secrets.token_urlsafe(24)
        self._codes[code] = (name, redirect_uri, self.now() + self.oauth_code_ttl)
        return code

    def exchange(self, body: Any) -> Json:
        """POST /v1/oauth/token: the code (once, before it expires) for the account's permanent token."""
        if not isinstance(body, dict):
            raise FakeApiError(400, "Bad Request", "The body must be a JSON object")
        if (
            self.oauth_client_id is None
            or self.oauth_client_secret is None
            or not hmac.compare_digest(str(body.get("client_id", "")), self.oauth_client_id)
            or not hmac.compare_digest(str(body.get("client_secret", "")), self.oauth_client_secret)
        ):
            raise FakeApiError(401, "Unauthorized", "invalid client credentials")
        found = self._codes.pop(str(body.get("code", "")), None)
        if found is None:
            raise FakeApiError(400, "invalid_grant", "The authorization code is invalid or was already used")
        name, redirect_uri, expires = found
        if self.now() > expires:
            raise FakeApiError(400, "invalid_grant", "The authorization code expired")
        if body.get("redirect_uri") != redirect_uri:
            raise FakeApiError(400, "invalid_grant", "redirect_uri does not match the authorization request")
        account = self.accounts[name]
        account.oauth_token = secrets.token_hex(24)  # a new install revokes the previous token
        account.integration_id = next(self._ids)
        return {"access_token": account.oauth_token, "token_type": "Bearer", "scope": "public_api",
                "created_at": int(self.now())}

    def integration(self, account: FakeAccount) -> Json:
        return {"id": account.integration_id, "name": "hookline", "custom_name": "hookline",
                "company_id": account.company_id, "active": True, "status": "active",
                "user": {"id": 1, "email": f"admin@{account.name}.example"}}

    async def uninstall(self, name: str) -> list[int]:
        """The admin uninstalls the app: its token stops working, `integration.deleted` goes to each
        webhook the app created (statuses answered), then those webhooks are gone."""
        import aiohttp

        account = self.accounts[name]
        integration = self.integration(account)
        account.oauth_token = None
        statuses: list[int] = []
        async with aiohttp.ClientSession() as session:
            for hook in self.webhooks_for(name):
                envelope = {"resource": "integration", "event": "integration.deleted", "timestamp": int(self.now()),
                            "token": hook["token"], "data": integration}
                try:
                    async with session.post(hook["url"], json=envelope) as resp:
                        statuses.append(resp.status)
                except aiohttp.ClientError:
                    statuses.append(0)
                self.delete_webhook(hook["webhook_id"])
        account.integration_id = None
        return statuses

    def set_rate_limit(self, limit: int, window: float = 60.0, *, account: str | None = None) -> None:
        acc = self.account(account)
        acc.rate_limit, acc.rate_window, acc._window = limit, window, -1

    def inject_failures(self, count: int, status: int = 503, *, retry_after: float | None = None) -> None:
        """The next `count` authenticated API requests answer `status` (e.g. 500, 502, 503, or 429),
        with a Retry-After header of `retry_after` seconds when given."""
        self._failures.extend([(status, retry_after)] * count)

    def clear_failures(self) -> None:
        self._failures.clear()
        self._media_faults.clear()

    def inject_media_faults(
        self, count: int, status: int = 503, body: bytes = b"", content_type: str = "text/plain"
    ) -> None:
        """The next `count` media downloads (valid links) answer this instead of the mp3: a 5xx, or
        a 200 with a body that is not audio (an HTML error page, a truncated file...)."""
        self._media_faults.extend([MediaFault(status, body, content_type)] * count)

    def next_media_fault(self) -> MediaFault | None:
        return self._media_faults.popleft() if self._media_faults else None

    # -- records --------------------------------------------------------------------------------

    def _index(self, resource: str, account: str | None) -> _Index:
        if resource not in RESOURCES:
            raise KeyError(f"unknown resource {resource!r}")
        return self.account(account).data[resource]

    def _prepare(self, resource: str, record: Mapping[str, Any]) -> Json:
        stored = dict(record)
        stored.setdefault("id", next(self._ids))
        time_field = TIME_FIELDS.get(resource, "created_at")
        stored.setdefault(time_field, int(self.now()))
        return stored

    def add(self, resource: str, record: Mapping[str, Any], *, account: str | None = None) -> Json:
        """Store a record (id and creation time filled in when missing) and return it."""
        acc = self.account(account)
        stored = self._prepare(resource, record)
        acc.data[resource].put(stored["id"], stored)
        self._owner[(resource, stored["id"])] = acc.name
        return stored

    def add_many(self, resource: str, records: Iterable[Mapping[str, Any]], *, account: str | None = None) -> int:
        """Bulk add (one sort at the end): cheap enough for tens of thousands of records."""
        acc = self.account(account)
        prepared = [self._prepare(resource, r) for r in records]
        acc.data[resource].put_many((r["id"], r) for r in prepared)
        for r in prepared:
            self._owner[(resource, r["id"])] = acc.name
        return len(prepared)

    def get(self, resource: str, rid: Any, *, account: str | None = None) -> Json | None:
        return self._index(resource, account).records.get(rid)

    def owner(self, resource: str, rid: Any) -> str:
        try:
            return self._owner[(resource, rid)]
        except KeyError:
            raise KeyError(f"no {RESOURCES.get(resource, resource)} {rid!r}") from None

    def update(self, resource: str, rid: Any, changes: Mapping[str, Any]) -> Json:
        index = self.account(self.owner(resource, rid)).data[resource]
        record = {**index.records[rid], **changes, "id": rid}
        index.put(rid, record)
        return record

    def remove(self, resource: str, rid: Any) -> Json | None:
        name = self._owner.pop((resource, rid), None)
        return None if name is None else self.accounts[name].data[resource].remove(rid)

    def records(self, resource: str, *, account: str | None = None) -> list[Json]:
        index = self._index(resource, account)
        return [index.records[i] for i in index.ids(0, len(index))]

    def add_call(self, call: Mapping[str, Any], *, account: str | None = None) -> Json:
        """Store a call. A truthy `recording`/`voicemail` is served as a signed, expiring link."""
        return self.add("calls", call, account=account)

    def update_call(self, call_id: int, changes: Mapping[str, Any]) -> Json:
        return self.update("calls", call_id, changes)

    def get_call(self, call_id: int) -> Json | None:
        name = self._owner.get(("calls", call_id))
        return None if name is None else self.accounts[name].data["calls"].records.get(call_id)

    def seed_calls(self, count: int, *, start: float, spacing: float = 1.0, account: str | None = None) -> None:
        """`count` finished calls, `spacing` seconds apart from `start` (for volume tests)."""
        self.add_many(
            "calls",
            ({"started_at": int(start + i * spacing), "direction": "inbound", "status": "done"} for i in range(count)),
            account=account,
        )

    # -- webhooks -------------------------------------------------------------------------------

    def _check_events(self, events: Any) -> list[str]:
        if events is None or events == []:
            return list(self.events)  # Aircall: no events means every event
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise FakeApiError(400, "Bad Request", "events must be a list of event names")
        unknown = sorted(set(events) - set(self.events))
        if unknown:
            raise FakeApiError(
                400, "Invalid events", f"Unknown webhook events: {', '.join(unknown)}. See the events list."
            )
        return list(dict.fromkeys(events))

    @staticmethod
    def _check_url(url: Any) -> str:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise FakeApiError(400, "Bad Request", "url must be a valid http(s) URL")
        return str(url)

    def create_webhook(
        self,
        url: str,
        events: list[str] | None = None,
        custom_name: str | None = None,
        *,
        account: str | None = None,
    ) -> Json:
        acc = self.account(account)
        if len(acc.data["webhooks"]) >= self.webhook_limit:
            raise FakeApiError(
                400,
                "Webhook limit reached",
                f"An account can have at most {self.webhook_limit} webhooks: delete one first",
            )
        webhook = {
            "webhook_id": str(uuid.uuid4()),
            "custom_name": custom_name if custom_name is not None else "Webhook",
            "url": self._check_url(url),
            "events": self._check_events(events),
            "active": True,
            "token": secrets.token_hex(16),
            "created_at": _iso(self.now()),
        }
        acc.data["webhooks"].put(webhook["webhook_id"], webhook)
        self._owner[("webhooks", webhook["webhook_id"])] = acc.name
        return webhook

    def webhook(self, webhook_id: str) -> Json:
        return self.accounts[self.owner("webhooks", webhook_id)].data["webhooks"].records[webhook_id]

    def update_webhook(self, webhook_id: str, changes: Mapping[str, Any]) -> Json:
        """Aircall's PUT semantics: a missing or empty `events` resets the webhook to every event."""
        current = self.webhook(webhook_id)
        updated = dict(current)
        if "url" in changes:
            updated["url"] = self._check_url(changes["url"])
        if "custom_name" in changes:
            updated["custom_name"] = str(changes["custom_name"])
        if "active" in changes:
            if not isinstance(changes["active"], bool):
                raise FakeApiError(400, "Bad Request", "active must be a boolean")
            updated["active"] = changes["active"]
        updated["events"] = self._check_events(changes.get("events"))
        current.clear()
        current.update(updated)  # in place: keeps the index entry and creation order
        return current

    def delete_webhook(self, webhook_id: str) -> None:
        self.owner("webhooks", webhook_id)
        self.remove("webhooks", webhook_id)

    def webhooks_for(self, account: str | None = None) -> list[Json]:
        return [dict(w) for w in self.records("webhooks", account=account)]

    def set_webhook_active(self, webhook_id: str, active: bool) -> None:
        """What Aircall does after repeated delivery failures (active=False), or a re-enable."""
        self.webhook(webhook_id)["active"] = active

    # -- media links ----------------------------------------------------------------------------

    def _media_sig(self, kind: str, call_id: int, expires: int) -> str:
        message = f"{kind}:{call_id}:{expires}".encode()
        return hmac.new(self.media_secret, message, hashlib.sha256).hexdigest()

    def media_url(self, call_id: int, kind: str = "recording", *, base_url: str | None = None) -> str:
        """A signed link to the call's recording or voicemail, valid for recording_ttl seconds."""
        base = (base_url or self.public_url or "http://127.0.0.1").rstrip("/")
        expires = int(self.now() + self.recording_ttl)
        sig = self._media_sig(kind, call_id, expires)
        return f"{base}/{kind}s/{call_id}.mp3?expires={expires}&sig={sig}"

    def check_media(self, kind: str, call_id: int, expires: int, sig: str) -> None:
        """Raise FakeApiError unless the link is authentic, unexpired and names existing media."""
        if not hmac.compare_digest(self._media_sig(kind, call_id, expires), sig):
            raise FakeApiError(403, "Forbidden", "Signature does not match")
        if self.now() > expires:
            raise FakeApiError(403, "Forbidden", "Request has expired")
        call = self.get_call(call_id)
        if call is None or not call.get(kind):
            raise FakeApiError(404, "Not found", f"No {kind} for this call")

    # -- rendering ------------------------------------------------------------------------------

    def render(self, resource: str, record: Json, base_url: str) -> Json:
        """A record as the API shows it: direct_link, and fresh signed media links for calls."""
        base = base_url.rstrip("/")
        out = dict(record)
        rid = record["webhook_id"] if resource == "webhooks" else record["id"]
        out["direct_link"] = f"{base}/v1/{resource}/{rid}"
        if resource == "calls":
            for kind in MEDIA_KINDS.values():
                if out.get(kind):
                    link = self.media_url(int(rid), kind, base_url=base)
                    out[kind] = link
                    if f"{kind}_short_url" in out:
                        out[f"{kind}_short_url"] = link
                else:
                    out[kind] = None
        return out


# ------------------------------------------------------------------------------------------------ app

STATE: web.AppKey[FakeAircallState] = web.AppKey("aircall_fake_state", FakeAircallState)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _int_param(request: web.Request, name: str, default: int | None = None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(float(raw))
    except ValueError:
        raise FakeApiError(400, "Bad Request", f"{name} must be an integer") from None


def _rate_headers(account: FakeAccount, now: float) -> tuple[dict[str, str], bool]:
    """Count the request in the account's fixed window; the headers and whether it is allowed."""
    window = math.floor(now / account.rate_window)
    if window != account._window:
        account._window, account._used = window, 0
    allowed = account._used < account.rate_limit
    if allowed:
        account._used += 1
    reset = (window + 1) * account.rate_window
    headers = {
        "X-AircallApi-Limit": str(account.rate_limit),
        "X-AircallApi-Remaining": str(account.rate_limit - account._used),
        # Whole seconds like Aircall for a minute window; sub-second windows (tests) need decimals.
        "X-AircallApi-Reset": str(int(reset)) if float(reset).is_integer() else f"{reset:.3f}",
    }
    return headers, allowed


@web.middleware
async def _api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    if not request.path.startswith("/v1/") or request.path == "/v1/oauth/token":  # the app's own credentials
        try:
            return await handler(request)
        except FakeApiError as exc:
            return exc.response()
    raw = await request.read()
    try:
        body = msgspec.json.decode(raw) if raw else None
    except msgspec.DecodeError:
        body = raw
    account = state.authenticate(request.headers.get("Authorization"))
    state.request_log.append(
        FakeRequest(request.method, request.path, dict(request.query), body, account.name if account else None)
    )
    if account is None:
        return FakeApiError(401, "Unauthorized", "Check your API ID and API token").response()
    account.requests += 1
    state.in_flight += 1
    state.max_in_flight = max(state.max_in_flight, state.in_flight)
    try:
        return await _answer(request, handler, state, account)
    finally:
        state.in_flight -= 1


async def _answer(request: web.Request, handler: Handler, state: FakeAircallState,
                  account: FakeAccount) -> web.StreamResponse:
    if state.latency:
        await asyncio.sleep(state.latency)
    if state._failures:
        status, retry_after = state._failures.popleft()
        failed = (FakeApiError(429, "Too Many Requests", "Rate limit reached").response() if status == 429
                  else _json({"error": "Internal Server Error", "troubleshoot": "Try again later"}, status=status))
        if retry_after is not None:
            failed.headers["Retry-After"] = f"{retry_after:g}"
        return failed
    headers, allowed = _rate_headers(account, state.now())
    if not allowed:
        account.throttled += 1
        response: web.StreamResponse = FakeApiError(
            429,
            "Too Many Requests",
            f"Rate limit of {account.rate_limit} requests reached; see X-AircallApi-Reset",
        ).response()
    else:
        try:
            response = await handler(request)
        except FakeApiError as exc:
            response = exc.response()
    response.headers.update(headers)
    return response


def _account(request: web.Request) -> FakeAccount:
    # Authenticated again rather than stashed on the request: cheap, and no request-key typing.
    account = request.app[STATE].authenticate(request.headers.get("Authorization"))
    assert account is not None, "the middleware lets only authenticated requests through"
    return account


def _page(request: web.Request, resource: str) -> web.Response:
    state = request.app[STATE]
    index: _Index = _account(request).data[resource]
    page = _int_param(request, "page", 1) or 1
    per_page = min(max(_int_param(request, "per_page", DEFAULT_PER_PAGE) or DEFAULT_PER_PAGE, 1), MAX_PER_PAGE)
    if page < 1:
        raise FakeApiError(400, "Bad Request", "page must be 1 or more")
    since, until = _int_param(request, "from"), _int_param(request, "to")
    lo, hi = index.span(since, until)
    total = hi - lo
    offset = (page - 1) * per_page
    if offset >= state.list_cap:
        raise FakeApiError(
            400,
            "Bad Request",
            f"Pagination is limited to {state.list_cap} records: narrow the query with from and to",
        )
    reachable = min(total, state.list_cap)
    end = min(offset + per_page, reachable)
    descending = request.query.get("order", "asc") == "desc"
    if offset >= end:
        ids: list[Any] = []
    elif descending:
        ids = index.ids(hi - end, hi - offset, descending=True)
    else:
        ids = index.ids(lo + offset, lo + end)
    base = _base(request)
    url = request.url  # absolute, from the request's Host: links point back where the client called
    next_link = str(url.update_query(page=page + 1, per_page=per_page)) if end < reachable else None
    prev_link = str(url.update_query(page=page - 1, per_page=per_page)) if page > 1 else None
    return _json(
        {
            resource: [state.render(resource, index.records[i], base) for i in ids],
            "meta": {
                "count": len(ids),
                "total": total,
                "current_page": page,
                "per_page": per_page,
                "next_page_link": next_link,
                "previous_page_link": prev_link,
            },
        }
    )


def _one(request: web.Request, resource: str) -> web.Response:
    index: _Index = _account(request).data[resource]
    raw = request.match_info["id"]
    rid: Any = raw if resource == "webhooks" else (int(raw) if raw.isdigit() else raw)
    record = index.records.get(rid)
    if record is None:
        raise FakeApiError(404, "Not found", f"{RESOURCES[resource].capitalize()} {raw} does not exist")
    return _json({RESOURCES[resource]: request.app[STATE].render(resource, record, _base(request))})


def _list_handler(resource: str) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return _page(request, resource)

    return handle


def _get_handler(resource: str) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return _one(request, resource)

    return handle


async def _ping(request: web.Request) -> web.StreamResponse:
    return _json({"ping": "pong"})


async def _body(request: web.Request) -> Json:
    try:
        body = msgspec.json.decode(await request.read())  # read once by the middleware, cached
    except msgspec.DecodeError:
        body = None
    if not isinstance(body, dict):
        raise FakeApiError(400, "Bad Request", "The body must be a JSON object")
    return body


def _owned_webhook(request: web.Request) -> str:
    webhook_id = request.match_info["id"]
    if webhook_id not in _account(request).data["webhooks"].records:
        raise FakeApiError(404, "Not found", f"Webhook {webhook_id} does not exist")
    return webhook_id


async def _create_webhook(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    body = await _body(request)
    name = body.get("custom_name")
    webhook = state.create_webhook(
        body.get("url", ""),  # validated by create_webhook
        body.get("events"),
        str(name) if name is not None else None,
        account=_account(request).name,
    )
    return _json({"webhook": state.render("webhooks", webhook, _base(request))}, status=201)


async def _update_webhook(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    webhook = state.update_webhook(_owned_webhook(request), await _body(request))
    return _json({"webhook": state.render("webhooks", webhook, _base(request))})


async def _delete_webhook(request: web.Request) -> web.StreamResponse:
    request.app[STATE].delete_webhook(_owned_webhook(request))
    return web.Response(status=204)


def _owned_call(request: web.Request) -> int:
    try:
        call_id = int(request.match_info["id"])
    except ValueError:
        raise FakeApiError(404, "Not found", "No such call") from None
    if call_id not in _account(request).data["calls"].records:
        raise FakeApiError(404, "Not found", f"Call {call_id} does not exist")
    return call_id


async def _insight_card(request: web.Request) -> web.StreamResponse:
    """POST /v1/calls/{id}/insight_cards: `contents`, a list of blocks each with a `type`."""
    call_id = _owned_call(request)
    body = await _body(request)
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents or not all(
        isinstance(b, dict) and b.get("type") in ("title", "shortText", "user") for b in contents
    ):
        raise FakeApiError(400, "Bad Request", "contents must be a list of title/shortText/user blocks")
    request.app[STATE].insight_cards.setdefault(call_id, []).append(body)
    request.app[STATE].action_log.append((time.time(), "insight_card", call_id))
    return web.Response(status=201)


async def _comment(request: web.Request) -> web.StreamResponse:
    """POST /v1/calls/{id}/comments: `content`."""
    call_id = _owned_call(request)
    body = await _body(request)
    if not isinstance(body.get("content"), str) or not body["content"]:
        raise FakeApiError(400, "Bad Request", "content is required")
    request.app[STATE].comments.setdefault(call_id, []).append(body)
    request.app[STATE].action_log.append((time.time(), "comment", call_id))
    return web.Response(status=201)


async def _create_tag(request: web.Request) -> web.StreamResponse:
    """POST /v1/tags: `name` (required), `color`, `description`."""
    state = request.app[STATE]
    body = await _body(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FakeApiError(400, "Bad Request", "name is required")
    account = _account(request)
    if any(t.get("name") == name for t in account.data["tags"].records.values()):
        raise FakeApiError(422, "Unprocessable Entity", f"Tag {name!r} already exists")
    tag = state.add("tags", {"name": name, "color": body.get("color") or "#00B388",
                             "description": body.get("description")}, account=account.name)
    state.action_log.append((time.time(), "tag_created", int(tag["id"])))
    return _json({"tag": tag}, status=201)


async def _tag_call(request: web.Request) -> web.StreamResponse:
    """POST /v1/calls/{id}/tags: `tags`, a list of existing tag ids."""
    call_id = _owned_call(request)
    body = await _body(request)
    tags = body.get("tags")
    if not isinstance(tags, list) or not tags or not all(isinstance(t, int) and not isinstance(t, bool) for t in tags):
        raise FakeApiError(400, "Bad Request", "tags must be a list of tag ids")
    known = _account(request).data["tags"].records
    missing = [t for t in tags if t not in known]
    if missing:
        raise FakeApiError(404, "Not found", f"Tag {missing[0]} does not exist")
    request.app[STATE].call_tags.setdefault(call_id, []).extend(tags)
    request.app[STATE].action_log.append((time.time(), "tag", call_id))
    return web.Response(status=201)


async def _transfer(request: web.Request) -> web.StreamResponse:
    """POST /v1/calls/{id}/transfers: one of `user_id`, `team_id` (with an optional
    `dispatching_strategy`) or `number`; only a call still going on can be transferred."""
    call_id = _owned_call(request)
    body = await _body(request)
    targets = [k for k in ("user_id", "team_id", "number") if body.get(k) is not None]
    if len(targets) != 1:
        raise FakeApiError(400, "Bad Request", "one of user_id, team_id or number is required")
    call = request.app[STATE].get_call(call_id) or {}
    if call.get("status") == "done" or call.get("ended_at"):
        raise FakeApiError(400, "Bad Request", "Call is not ongoing")
    request.app[STATE].transfers.setdefault(call_id, []).append(body)
    request.app[STATE].action_log.append((time.time(), "transfer", call_id))
    return web.Response(status=204)


async def _send_message(request: web.Request) -> web.StreamResponse:
    """POST /v1/numbers/{id}/messages/native/send: `to` (E.164) and `body` (up to 1,600 characters);
    the message shows in the agents' conversation in the Aircall app."""
    state = request.app[STATE]
    try:
        number_id = int(request.match_info["id"])
    except ValueError:
        raise FakeApiError(404, "Not found", "No such number") from None
    if number_id not in _account(request).data["numbers"].records:
        raise FakeApiError(404, "Not found", f"Number {number_id} does not exist")
    body = await _body(request)
    to, text = body.get("to"), body.get("body")
    if not isinstance(to, str) or not to.startswith("+") or not to[1:].isdigit():
        raise FakeApiError(400, "Bad Request", "to must be a phone number in E.164 format")
    if not isinstance(text, str) or not text or len(text) > 1600:
        raise FakeApiError(400, "Bad Request", "body is required (up to 1600 characters)")
    message = {"id": next(state._ids), "direction": "outbound", "to": to, "body": text, "status": "sent",
               "created_at": int(state.now())}
    state.messages.setdefault(number_id, []).append(message)
    state.action_log.append((time.time(), "message", number_id))
    return _json(message, status=201)


async def _media(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    kind = MEDIA_KINDS[request.match_info["kind"]]
    try:
        call_id = int(request.match_info["call_id"])
        expires = int(request.query.get("expires", ""))
    except ValueError:
        raise FakeApiError(403, "Forbidden", "Malformed link") from None
    try:
        state.check_media(kind, call_id, expires, request.query.get("sig", ""))
    except FakeApiError as exc:
        state.media_log.append((kind, call_id, exc.status))
        raise
    fault = state.next_media_fault()
    state.media_log.append((kind, call_id, 200 if fault is None else fault.status))
    if fault is not None:
        return web.Response(body=fault.body, status=fault.status, content_type=fault.content_type)
    return web.Response(body=SILENT_MP3, content_type="audio/mpeg")


async def _authorize(request: web.Request) -> web.StreamResponse:
    """The consent page, auto-approved (or denied: state.oauth_deny, or ?deny=1): back to redirect_uri."""
    from urllib.parse import urlencode

    state = request.app[STATE]
    q = request.query
    redirect_uri = q.get("redirect_uri", "")
    if q.get("response_type") != "code" or q.get("scope") != "public_api" or not redirect_uri:
        raise FakeApiError(400, "Bad Request", "response_type=code, scope=public_api and redirect_uri are required")
    back: dict[str, str] = {}
    if state.oauth_deny or q.get("deny") == "1":
        back["error"] = "access_denied"
    else:
        back["code"] = state.authorize(q.get("client_id", ""), redirect_uri, q.get("account"))
    if "state" in q:
        back["state"] = q["state"]
    sep = "&" if "?" in redirect_uri else "?"
    raise web.HTTPFound(redirect_uri + sep + urlencode(back))


async def _token(request: web.Request) -> web.StreamResponse:
    try:
        body = msgspec.json.decode(await request.read())
    except msgspec.DecodeError:
        body = None
    return _json(request.app[STATE].exchange(body))


async def _integration_me(request: web.Request) -> web.StreamResponse:
    account = _account(request)
    if account.integration_id is None:
        raise FakeApiError(404, "Not found", "No integration for these credentials")
    return _json({"integration": request.app[STATE].integration(account)})


async def _company(request: web.Request) -> web.StreamResponse:
    account = _account(request)
    return _json({"company": {"name": account.company_name, "users_count": 0, "numbers_count": 0}})


def make_app(state: FakeAircallState) -> web.Application:
    """The fake Aircall Public API over `state`."""
    app = web.Application(middlewares=[_api_middleware])
    app[STATE] = state
    routes = [
        web.get("/v1/ping", _ping),
        web.get("/oauth/authorize", _authorize),
        web.post("/v1/oauth/token", _token),
        web.get("/v1/integrations/me", _integration_me),
        web.get("/v1/company", _company),
        web.get("/v1/webhooks", _list_handler("webhooks")),
        web.post("/v1/webhooks", _create_webhook),
        web.get("/v1/webhooks/{id}", _get_handler("webhooks")),
        web.put("/v1/webhooks/{id}", _update_webhook),
        web.delete("/v1/webhooks/{id}", _delete_webhook),
        web.get("/v1/calls/search", _list_handler("calls")),
        web.post("/v1/calls/{id}/insight_cards", _insight_card),
        web.post("/v1/calls/{id}/comments", _comment),
        web.post("/v1/calls/{id}/tags", _tag_call),
        web.post("/v1/calls/{id}/transfers", _transfer),
        web.post("/v1/tags", _create_tag),
        web.post("/v1/numbers/{id}/messages/native/send", _send_message),
        web.get(r"/{kind:recordings|voicemails}/{call_id:\d+}.mp3", _media),
    ]
    for resource in ("calls", "users", "contacts", "numbers", "teams", "tags"):
        routes.append(web.get(f"/v1/{resource}", _list_handler(resource)))
        routes.append(web.get(f"/v1/{resource}/{{id}}", _get_handler(resource)))
    app.add_routes(routes)
    return app


async def serve_fake_api(state: FakeAircallState, host: str = "127.0.0.1", port: int = 0) -> tuple[web.AppRunner, str]:
    """Start the fake on host:port (0 = a free port). Returns the runner (call .cleanup()) and base URL."""
    runner = web.AppRunner(make_app(state), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    base_url = f"http://{host}:{bound}"
    if state.public_url is None:
        state.public_url = base_url
    return runner, base_url
