"""A fake Calendly (API v2 subset + signed webhook deliveries) for tests and for trying hookline on
localhost without a Calendly account.

What it answers, like Calendly: GET /users/me; POST, GET (paginated), DELETE /webhook_subscriptions;
GET /scheduled_events (organization, min/max_start_time, paginated);
GET /scheduled_events/{uuid}/invitees. Bearer token required; errors shaped {title, message, details}.

OAuth like Calendly's (auth.calendly.com): GET /oauth/authorize (auto-approves as `oauth_installer`,
or denies with `oauth_deny`; PKCE S256 required), POST /oauth/token (authorization_code with the
code_verifier, refresh_token with single-use rotation); access tokens expire after `access_ttl`
seconds. Each installed organization has its own user, organization and tokens; subscriptions made
with its token are signed with the app's webhook signing key. `revoke(org)` plays an uninstall.

What it does besides, to play Calendly's part: book, cancel, reschedule and mark no-shows (through
Python methods or POST /_fake/...), delivering signed webhooks to every active subscription of the
event; a subscription whose deliveries keep failing is disabled, as Calendly does.

    hookline simulate calendly --port 8790      # then see docs/providers/calendly.md
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler

from hookline.providers.calendly import catalog, signature
from hookline.testing.calendly.simulator import DEFAULT_TOKEN

OAUTH_ORG = web.RequestKey("oauth_org", str)  # the OAuth organization whose token made the request
SUBSCRIBABLE = frozenset(catalog.CATALOG) | {"event_type.created", "event_type.updated", "event_type.deleted"}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_iso(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _error(status: int, title: str, message: str, details: list[dict[str, str]] | None = None) -> web.Response:
    body: dict[str, Any] = {"title": title, "message": message}
    if details:
        body["details"] = details
    return web.json_response(body, status=status)


def _invalid(parameter: str, message: str) -> web.Response:
    return _error(
        400, "Invalid Argument", "The supplied parameters are invalid.", [{"parameter": parameter, "message": message}]
    )


@dataclass
class Subscription:
    uuid: str
    url: str
    events: list[str]
    scope: str
    organization: str
    user: str | None
    creator: str
    signing_key: str | None
    created_at: float
    state: str = "active"
    retry_started_at: float | None = None
    failures: int = 0

    def public(self, base: str) -> dict[str, Any]:
        return {
            "uri": f"{base}/webhook_subscriptions/{self.uuid}",
            "callback_url": self.url,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.created_at),
            "retry_started_at": iso(self.retry_started_at) if self.retry_started_at else None,
            "state": self.state,
            "events": list(self.events),
            "scope": self.scope,
            "organization": self.organization,
            "user": self.user,
            "group": None,
            "creator": self.creator,
        }


@dataclass
class OAuthOrg:
    """An organization that installs the OAuth app: its own user, organization and tokens."""

    name: str
    user_uuid: str
    org_uuid: str


@dataclass
class _Code:
    org: str
    redirect_uri: str
    challenge: str
    expires_at: float


@dataclass
class FakeCalendly:
    token: str = DEFAULT_TOKEN
    base_url: str = "http://127.0.0.1:0"  # set once the server listens
    disable_after: int = 3  # failed deliveries in a row before a subscription is disabled
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    invitees: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    event_orgs: dict[str, str] = field(default_factory=dict)  # scheduled event uuid -> its OAuth organization
    deliveries: list[tuple[str, str, int]] = field(default_factory=list)  # (subscription uuid, event, status)
    # path prefix, or "METHOD path prefix" -> how many requests answer 500
    failures: dict[str, int] = field(default_factory=dict)
    user_uuid: str = "USER0000000000001"
    org_uuid: str = "ORG00000000000001"
    _session: aiohttp.ClientSession | None = None
    # OAuth: the app, the organizations that can install it, codes and tokens handed out
    oauth_client: tuple[str, str] | None = None  # (client_id, client_secret)
    oauth_signing_key: str | None = None  # the app's webhook signing key
    oauth_installer: str = "acme"
    oauth_deny: bool = False
    access_ttl: float = 7200.0
    orgs: dict[str, OAuthOrg] = field(default_factory=dict)
    codes: dict[str, _Code] = field(default_factory=dict)
    access_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> (org, expires_at)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> org (single use)
    token_calls: list[str] = field(default_factory=list)  # grant_type of every POST /oauth/token answered 200
    token_down: bool = False  # /oauth/token answers 503
    latency: float = 0.0  # seconds added to each API answer (Calendly is not on localhost)
    in_flight: int = 0  # API requests being answered now, and the most seen at once
    max_in_flight: int = 0

    # -- OAuth ---------------------------------------------------------------------------------------
    def set_oauth_app(self, client_id: str, client_secret: str, signing_key: str) -> None:
        self.oauth_client = (client_id, client_secret)
        self.oauth_signing_key = signing_key

    def add_org(self, name: str) -> OAuthOrg:
        n = len(self.orgs) + 2
        org = self.orgs.setdefault(name, OAuthOrg(name, f"USER{n:013d}", f"ORG{n:014d}"))
        return org

    def org_user_uri(self, name: str) -> str:
        return f"{self.base_url}/users/{self.orgs[name].user_uuid}"

    def org_uri(self, name: str) -> str:
        return f"{self.base_url}/organizations/{self.orgs[name].org_uuid}"

    def revoke(self, name: str) -> None:
        """The organization uninstalls the app: every token it was given stops working."""
        self.access_tokens = {t: v for t, v in self.access_tokens.items() if v[0] != name}
        self.refresh_tokens = {t: o for t, o in self.refresh_tokens.items() if o != name}

    def expire_access_tokens(self) -> None:
        self.access_tokens = {t: (o, time.time() - 1) for t, (o, _) in self.access_tokens.items()}

    def subscriptions_of(self, name: str) -> list[Subscription]:
        return [s for s in self.subscriptions.values() if s.organization == self.org_uri(name)]

    def _grant(self, org: str) -> dict[str, Any]:
        access, refresh = "cal-at-" + secrets.token_urlsafe(24), "cal-rt-" + secrets.token_urlsafe(24)
        self.access_tokens[access] = (org, time.time() + self.access_ttl)
        self.refresh_tokens[refresh] = org
        return {"token_type": "Bearer", "access_token": access, "refresh_token": refresh, "scope": "default",
                "created_at": int(time.time()), "expires_in": int(self.access_ttl),
                "owner": self.org_user_uri(org), "organization": self.org_uri(org)}

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        redirect, state = q.get("redirect_uri", ""), q.get("state", "")
        if self.oauth_client is None or q.get("client_id") != self.oauth_client[0] or not redirect:
            return web.Response(status=400, text="unknown client_id or no redirect_uri")
        sep = "&" if "?" in redirect else "?"
        if self.oauth_deny:
            raise web.HTTPFound(f"{redirect}{sep}{urlencode({'error': 'access_denied', 'state': state})}")
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return web.Response(status=400, text="response_type=code and a S256 code_challenge are required")
        self.add_org(self.oauth_installer)
        code = secrets.token_hex(32)
        self.codes[code] = _Code(self.oauth_installer, redirect, q["code_challenge"], time.time() + 600)
        raise web.HTTPFound(f"{redirect}{sep}{urlencode({'code': code, 'state': state})}")

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if self.token_down:
            return web.json_response({"error": "temporarily_unavailable"}, status=503)
        if self.oauth_client is None or (form.get("client_id"), form.get("client_secret")) != self.oauth_client:
            return web.json_response({"error": "invalid_client"}, status=401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            found = self.codes.pop(str(form.get("code", "")), None)  # single use, even when refused below
            verifier = str(form.get("code_verifier", ""))
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if (found is None or found.expires_at < time.time() or found.redirect_uri != form.get("redirect_uri")
                    or not secrets.compare_digest(challenge, found.challenge)):
                return web.json_response({"error": "invalid_grant"}, status=400)
            self.token_calls.append("authorization_code")
            return web.json_response(self._grant(found.org))
        if grant_type == "refresh_token":
            org = self.refresh_tokens.pop(str(form.get("refresh_token", "")), None)  # rotated: single use
            if org is None:
                return web.json_response({"error": "invalid_grant"}, status=400)
            self.token_calls.append("refresh_token")
            return web.json_response(self._grant(org))
        return web.json_response({"error": "unsupported_grant_type"}, status=400)

    def _who(self, request: web.Request) -> tuple[str, str, str | None]:
        """(user URI, organization URI, OAuth organization name) of the request's token."""
        org = request.get(OAUTH_ORG)
        if org is None:
            return self.user_uri, self.organization_uri, None
        return self.org_user_uri(org), self.org_uri(org), org

    # -- resources -----------------------------------------------------------------------------
    @property
    def user_uri(self) -> str:
        return f"{self.base_url}/users/{self.user_uuid}"

    @property
    def organization_uri(self) -> str:
        return f"{self.base_url}/organizations/{self.org_uuid}"

    def me(self) -> dict[str, Any]:
        return {
            "uri": self.user_uri,
            "name": "Fake Host",
            "slug": "fake-host",
            "email": "host@example.com",
            "scheduling_url": "https://calendly.example/fake-host",
            "timezone": "UTC",
            "current_organization": self.organization_uri,
            "created_at": iso(1_700_000_000),
            "updated_at": iso(1_700_000_000),
        }

    # -- playing Calendly's part -----------------------------------------------------------------
    def add_booking(
        self,
        name: str = "Jane Doe",
        email: str = "jane@example.com",
        start: float | None = None,
        minutes: int = 30,
        created_at: float | None = None,
        old_invitee: str | None = None,
        tracking: dict[str, Any] | None = None,
        questions: list[dict[str, Any]] | None = None,
        org: str | None = None,
    ) -> dict[str, Any]:
        """A new scheduled event with one invitee; returns the webhook payload (invitee + scheduled_event).
        `org`: an OAuth organization's meeting (default: the default organization's)."""
        now = created_at if created_at is not None else time.time()
        start = start if start is not None else now + 86400
        ev_uuid, inv_uuid = uuidlib.uuid4().hex.upper(), uuidlib.uuid4().hex.upper()
        ev_uri = f"{self.base_url}/scheduled_events/{ev_uuid}"
        event = {
            "uri": ev_uri,
            "name": "30 Minute Meeting",
            "status": "active",
            "start_time": iso(start),
            "end_time": iso(start + minutes * 60),
            "event_type": f"{self.base_url}/event_types/ET0000000000001",
            "location": {"type": "google_conference", "join_url": "https://meet.example/abc"},
            "invitees_counter": {"total": 1, "active": 1, "limit": 1},
            "created_at": iso(now),
            "updated_at": iso(now),
            "event_memberships": [{"user": self.user_uri}],
        }
        invitee = {
            "uri": f"{ev_uri}/invitees/{inv_uuid}",
            "email": email,
            "name": name,
            "first_name": None,
            "last_name": None,
            "status": "active",
            "questions_and_answers": questions or [{"question": "Topic?", "answer": "Pricing", "position": 0}],
            "timezone": "Europe/Paris",
            "event": ev_uri,
            "created_at": iso(now),
            "updated_at": iso(now),
            "tracking": tracking
            or {"utm_campaign": None, "utm_source": None, "utm_medium": None, "utm_content": None, "utm_term": None,
                "salesforce_uuid": None},
            "text_reminder_number": None,
            "rescheduled": False,
            "old_invitee": old_invitee,
            "new_invitee": None,
            "cancel_url": f"https://calendly.example/cancellations/{inv_uuid}",
            "reschedule_url": f"https://calendly.example/reschedulings/{inv_uuid}",
            "routing_form_submission": None,
            "cancellation": None,
            "payment": None,
            "no_show": None,
            "reconfirmation": None,
            "scheduling_method": None,
            "invitee_scheduled_by": None,
        }
        self.events[ev_uuid] = event
        self.invitees[ev_uuid] = [invitee]
        if org is not None:
            self.event_orgs[ev_uuid] = org
        return self.payload(invitee)

    def find_invitee(self, uri: str) -> dict[str, Any]:
        for items in self.invitees.values():
            for invitee in items:
                if invitee["uri"] == uri:
                    return invitee
        raise KeyError(uri)

    def payload(self, invitee: dict[str, Any]) -> dict[str, Any]:
        ev_uuid = invitee["event"].rsplit("/", 1)[-1]
        return {**invitee, "scheduled_event": dict(self.events[ev_uuid])}

    def cancel(self, invitee_uri: str, reason: str = "Schedule conflict", at: float | None = None,
               new_invitee: str | None = None) -> dict[str, Any]:
        now = at if at is not None else time.time()
        invitee = self.find_invitee(invitee_uri)
        invitee.update(
            status="canceled",
            updated_at=iso(now),
            rescheduled=new_invitee is not None,
            new_invitee=new_invitee,
            cancellation={"canceled_by": invitee["name"], "reason": reason, "canceler_type": "invitee",
                          "created_at": iso(now)},
        )
        event = self.events[invitee["event"].rsplit("/", 1)[-1]]
        event.update(status="canceled", updated_at=iso(now))
        return self.payload(invitee)

    def reschedule(
        self, invitee_uri: str, new_start: float, at: float | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(invitee.canceled payload of the old, invitee.created payload of the new)."""
        now = at if at is not None else time.time()
        old = self.find_invitee(invitee_uri)
        new = self.add_booking(old["name"], old["email"], new_start, created_at=now, old_invitee=invitee_uri)
        canceled = self.cancel(invitee_uri, "Rescheduled", now, new_invitee=new["uri"])
        return canceled, new

    def mark_no_show(self, invitee_uri: str, at: float | None = None, present: bool = True) -> dict[str, Any]:
        now = at if at is not None else time.time()
        invitee = self.find_invitee(invitee_uri)
        invitee["no_show"] = (
            {"uri": f"{self.base_url}/invitee_no_shows/{uuidlib.uuid4().hex.upper()}", "created_at": iso(now)}
            if present
            else None
        )
        invitee["updated_at"] = iso(now)
        return self.payload(invitee)

    def disable(self, uuid: str) -> None:
        sub = self.subscriptions[uuid]
        sub.state = "disabled"
        sub.retry_started_at = sub.retry_started_at or time.time()

    async def deliver(self, event: str, payload: dict[str, Any], created_at: float | None = None,
                      org: str | None = None) -> list[int]:
        """POST a signed envelope to every active subscription of `event` (of the default organization,
        or of the OAuth organization `org`); returns the statuses (0: unreachable)."""
        wanted = self.organization_uri if org is None else self.org_uri(org)
        statuses = []
        for sub in list(self.subscriptions.values()):
            if sub.state != "active" or event not in sub.events or sub.organization != wanted:
                continue
            envelope = {
                "event": event,
                "created_at": iso(created_at if created_at is not None else time.time()),
                "created_by": sub.creator,
                "payload": payload,
            }
            status = await self._post(sub, json.dumps(envelope).encode())
            self.deliveries.append((sub.uuid, event, status))
            statuses.append(status)
            if 200 <= status < 300:
                sub.failures, sub.retry_started_at = 0, None
            else:
                sub.failures += 1
                sub.retry_started_at = sub.retry_started_at or time.time()
                if sub.failures >= self.disable_after:
                    sub.state = "disabled"
        return statuses

    async def _post(self, sub: Subscription, body: bytes) -> int:
        headers = {"content-type": "application/json", "user-agent": "Calendly-Fake/1"}
        if sub.signing_key:
            headers["Calendly-Webhook-Signature"] = signature.header_value(sub.signing_key, int(time.time()), body)
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        try:
            async with self._session.post(sub.url, data=body, headers=headers) as resp:
                return resp.status
        except (aiohttp.ClientError, TimeoutError):
            return 0

    # -- the HTTP API -------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        app.add_routes(
            [
                web.get("/oauth/authorize", self._authorize),
                web.post("/oauth/token", self._token),
                web.get("/users/me", self._me),
                web.post("/webhook_subscriptions", self._create_sub),
                web.get("/webhook_subscriptions", self._list_subs),
                web.get("/webhook_subscriptions/{uuid}", self._get_sub),
                web.delete("/webhook_subscriptions/{uuid}", self._delete_sub),
                web.get("/scheduled_events", self._list_events),
                web.get("/scheduled_events/{uuid}/invitees", self._list_invitees),
                web.post("/_fake/book", self._fake_book),
                web.post("/_fake/cancel", self._fake_cancel),
                web.post("/_fake/subscriptions/{uuid}/disable", self._fake_disable),
            ]
        )
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(("/_fake/", "/oauth/")):
            return await handler(request)
        auth = request.headers.get("authorization", "")
        held = self.access_tokens.get(auth.removeprefix("Bearer "))
        if held is not None and held[1] > time.time():
            request[OAUTH_ORG] = held[0]
        elif not secrets.compare_digest(auth.encode(), f"Bearer {self.token}".encode()):
            return _error(401, "Unauthenticated", "The access token is invalid")
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            for prefix, left in self.failures.items():
                if left > 0 and (request.path.startswith(prefix)
                                 or f"{request.method} {request.path}".startswith(prefix)):
                    self.failures[prefix] = left - 1
                    return _error(500, "Internal Server Error", "The server encountered an unexpected condition")
            return await handler(request)
        finally:
            self.in_flight -= 1

    async def _me(self, request: web.Request) -> web.Response:
        user, org, name = self._who(request)
        if name is None:
            return web.json_response({"resource": self.me()})
        return web.json_response({"resource": {**self.me(), "uri": user, "current_organization": org,
                                               "name": f"{name.title()} Admin", "slug": name}})

    async def _create_sub(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _invalid("body", "is not JSON")
        if not isinstance(body, dict):
            return _invalid("body", "must be an object")
        url, events, scope = body.get("url"), body.get("events"), body.get("scope")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return _invalid("url", "must be a valid URL")
        if not isinstance(events, list) or not events or not all(e in SUBSCRIBABLE for e in events):
            return _invalid("events", f"must be a non-empty list of {sorted(SUBSCRIBABLE)}")
        me, my_org, oauth_org = self._who(request)
        if body.get("organization") != my_org:
            return _invalid("organization", "is not your organization")
        if scope not in ("user", "organization"):
            return _invalid("scope", "must be user or organization")
        if scope == "user" and body.get("user") != me:
            return _invalid("user", "is required for the user scope and must be you")
        if scope != "organization" and catalog.ORGANIZATION_ONLY & set(events):
            return _invalid("events", "routing_form_submission.created needs the organization scope")
        for sub in self.subscriptions.values():
            if sub.url == url and sub.scope == scope and sub.organization == my_org:
                return _error(409, "Already Exists", "Hook with this url already exists")
        # An OAuth app's subscriptions are signed with the app's webhook signing key.
        key = self.oauth_signing_key if oauth_org is not None else body.get("signing_key")
        sub = Subscription(
            uuid=uuidlib.uuid4().hex.upper(),
            url=url,
            events=list(events),
            scope=scope,
            organization=my_org,
            user=me if scope == "user" else None,
            creator=me,
            signing_key=key if isinstance(key, str) and key else None,
            created_at=time.time(),
        )
        self.subscriptions[sub.uuid] = sub
        return web.json_response({"resource": sub.public(self.base_url)}, status=201)

    def _page(self, request: web.Request, items: list[dict[str, Any]]) -> web.Response:
        try:
            count = min(int(request.query.get("count", "20")), 100)
            offset = int(request.query.get("page_token", "0"))
        except ValueError:
            return _invalid("count", "must be an integer")
        page = items[offset : offset + count]
        more = offset + count < len(items)
        next_page = None
        if more:
            query = {**request.query, "page_token": str(offset + count), "count": str(count)}
            next_page = f"{self.base_url}{request.path}?{urlencode(query)}"
        return web.json_response(
            {
                "collection": page,
                "pagination": {
                    "count": len(page),
                    "next_page": next_page,
                    "previous_page": None,
                    "next_page_token": str(offset + count) if more else None,
                    "previous_page_token": None,
                },
            }
        )

    async def _list_subs(self, request: web.Request) -> web.Response:
        q = request.query
        me, my_org, _ = self._who(request)
        if q.get("organization") != my_org:
            return _invalid("organization", "is required")
        if q.get("scope") not in ("user", "organization"):
            return _invalid("scope", "is required")
        subs = [s for s in self.subscriptions.values() if s.scope == q["scope"] and s.organization == my_org]
        if q["scope"] == "user":
            if q.get("user") != me:
                return _invalid("user", "is required for the user scope")
            subs = [s for s in subs if s.user == q["user"]]
        return self._page(request, [s.public(self.base_url) for s in sorted(subs, key=lambda s: s.created_at)])

    async def _get_sub(self, request: web.Request) -> web.Response:
        sub = self.subscriptions.get(request.match_info["uuid"])
        if sub is None:
            return _error(404, "Resource Not Found", "The server could not find the requested resource.")
        return web.json_response({"resource": sub.public(self.base_url)})

    async def _delete_sub(self, request: web.Request) -> web.Response:
        if self.subscriptions.pop(request.match_info["uuid"], None) is None:
            return _error(404, "Resource Not Found", "The server could not find the requested resource.")
        return web.Response(status=204)

    async def _list_events(self, request: web.Request) -> web.Response:
        q = request.query
        me, my_org, oauth_org = self._who(request)
        if q.get("organization") != my_org and q.get("user") != me:
            return _invalid("organization", "organization or user is required")
        try:
            lo = _parse_iso(q["min_start_time"]) if q.get("min_start_time") else float("-inf")
            hi = _parse_iso(q["max_start_time"]) if q.get("max_start_time") else float("inf")
        except ValueError:
            return _invalid("min_start_time", "must be an ISO 8601 time")
        found = [e for uuid, e in self.events.items()
                 if self.event_orgs.get(uuid) == oauth_org and lo <= _parse_iso(e["start_time"]) < hi]
        if q.get("status"):
            found = [e for e in found if e["status"] == q["status"]]
        return self._page(request, sorted(found, key=lambda e: (e["start_time"], e["uri"])))

    async def _list_invitees(self, request: web.Request) -> web.Response:
        items = self.invitees.get(request.match_info["uuid"])
        if items is None:
            return _error(404, "Resource Not Found", "The server could not find the requested resource.")
        return self._page(request, list(items))

    async def _control_body(self, request: web.Request) -> dict[str, Any] | None:
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    async def _fake_book(self, request: web.Request) -> web.Response:
        body = await self._control_body(request)
        if body is None:
            return _invalid("body", "must be a JSON object")
        try:
            start = _parse_iso(body["start_time"]) if body.get("start_time") else None
        except (ValueError, TypeError):
            return _invalid("start_time", "must be an ISO 8601 time")
        payload = self.add_booking(body.get("name", "Jane Doe"), body.get("email", "jane@example.com"), start)
        statuses = await self.deliver("invitee.created", payload) if body.get("deliver", True) else []
        return web.json_response({"invitee": payload["uri"], "deliveries": statuses})

    async def _fake_cancel(self, request: web.Request) -> web.Response:
        body = await self._control_body(request)
        if body is None:
            return _invalid("body", "must be a JSON object")
        try:
            payload = self.cancel(str(body.get("invitee")), body.get("reason", "Schedule conflict"))
        except KeyError:
            return _error(404, "Resource Not Found", "no such invitee")
        statuses = await self.deliver("invitee.canceled", payload)
        return web.json_response({"invitee": payload["uri"], "deliveries": statuses})

    async def _fake_disable(self, request: web.Request) -> web.Response:
        uuid = request.match_info["uuid"]
        if uuid not in self.subscriptions:
            return _error(404, "Resource Not Found", "no such subscription")
        self.disable(uuid)
        return web.json_response({"state": "disabled"})


def start_of_day(days_from_now: int = 0) -> float:
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=days_from_now)
    return day.timestamp()
