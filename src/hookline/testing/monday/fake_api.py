"""A fake monday.com GraphQL API (webhooks subset) that plays monday's part in the webhook dance:
it performs the challenge handshake when a webhook is created and delivers board events signed with
a JWT, for tests and for trying hookline on localhost.

It understands the operations hookline sends (`me`, `webhooks(board_id:)`, `create_webhook`,
`delete_webhook`, and rules' `create_item` and `change_multiple_column_values`), arguments given as
`$variables` or literals; it is no GraphQL engine.

OAuth like monday's (auth.monday.com): GET /oauth2/authorize (auto-approves as `oauth_installer`, or
denies with `oauth_deny`), POST /oauth2/token (authorization_code; monday's tokens do not expire).
Each installed account has its own id, boards and token, answers `boards` and `me` for it, and
`uninstall(name)` revokes its tokens and POSTs the app's signed `uninstall` lifecycle event.

    hookline simulate monday --port 8791 --signing-secret S      # see docs/providers/monday.md
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jwt
from aiohttp import web

from hookline.providers.monday import catalog
from hookline.testing.monday.simulator import DEFAULT_TOKEN

DEFAULT_BOARD = "1234567890"
ACCOUNT_ID = 9000001
USER_ID = 4012689

_FIELD = re.compile(
    r"\b(create_webhook|delete_webhook|webhooks|me|boards|create_item|change_multiple_column_values)"
    r"\s*(\(([^)]*)\))?\s*\{"
)
_ARG = re.compile(r'(\w+)\s*:\s*(\$\w+|"(?:[^"\\]|\\.)*"|[\w.-]+)')


def _gql_error(message: str, code: str = "InvalidArgumentException", status: int = 200) -> web.Response:
    return web.json_response(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}, status=status
    )


def _args(text: str, variables: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for name, raw in _ARG.findall(text or ""):
        if raw.startswith("$"):
            args[name] = variables.get(raw[1:])
        elif raw.startswith('"'):
            args[name] = json.loads(raw)
        else:
            args[name] = raw
    return args


def trigger_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


@dataclass
class Webhook:
    id: str
    board_id: str
    event: str
    config: str | None
    url: str

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "board_id": self.board_id, "event": self.event, "config": self.config}


@dataclass
class OAuthAccount:
    """A monday.com account that installs the OAuth app: its id, name and boards."""

    name: str
    account_id: int
    boards: dict[str, str]  # id -> name


@dataclass
class FakeMonday:
    token: str = DEFAULT_TOKEN
    signing_secret: str | None = None  # set: the handshake and events carry a JWT signed with it
    boards: set[str] = field(default_factory=lambda: {DEFAULT_BOARD})
    groups: set[str] = field(default_factory=lambda: {"topics", "new_group"})  # every board's groups
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {board, group, name, columns}
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    deliveries: list[tuple[str, str, int]] = field(default_factory=list)  # (webhook id, type, status)
    _next_id: int = 500000001
    _session: aiohttp.ClientSession | None = None
    # OAuth: the app, the accounts that can install it, codes and tokens handed out
    oauth_client: tuple[str, str] | None = None  # (client_id, client_secret)
    oauth_installer: str = "acme"
    oauth_deny: bool = False
    oauth_boards: int = 3  # boards of an account that installs (more than a page of `boards` to test paging)
    oauth_code_ttl: float = 600.0  # how long an authorization code can be exchanged
    lifecycle_url: str | None = None  # where the app's install/uninstall events go
    oauth_accounts: dict[str, OAuthAccount] = field(default_factory=dict)
    codes: dict[str, tuple[str, str, float]] = field(default_factory=dict)  # code -> (account, redirect, expiry)
    access_tokens: dict[str, str] = field(default_factory=dict)  # token -> account name
    token_down: bool = False
    failures: list[int] = field(default_factory=list)  # statuses the next API requests answer (5xx, 429)
    retry_after: int | None = None  # the Retry-After (seconds) those scripted 429s carry
    api_down: bool = False  # the GraphQL API answers 500 (an outage), the OAuth pages still work

    # -- OAuth -----------------------------------------------------------------------------------------
    def set_oauth_app(self, client_id: str, client_secret: str, signing_secret: str) -> None:
        self.oauth_client = (client_id, client_secret)
        self.signing_secret = signing_secret

    def add_oauth_account(self, name: str, boards: int = 3) -> OAuthAccount:
        if name not in self.oauth_accounts:
            n = len(self.oauth_accounts) + 1
            found = {str(7000000000 + n * 10_000 + i): f"{name.title()} board {i}" for i in range(1, boards + 1)}
            self.boards |= set(found)
            self.oauth_accounts[name] = OAuthAccount(name, 9100000 + n, found)
        return self.oauth_accounts[name]

    def hooks_of(self, name: str) -> list[Webhook]:
        boards = self.oauth_accounts[name].boards if name in self.oauth_accounts else {}
        return [h for h in self.webhooks.values() if h.board_id in boards]

    async def uninstall(self, name: str) -> int:
        """The account removes the app: its tokens stop working; the lifecycle event goes out (its status)."""
        self.access_tokens = {t: a for t, a in self.access_tokens.items() if a != name}
        if self.lifecycle_url is None:
            return 0
        account = self.oauth_accounts[name]
        status, _ = await self._post(self.lifecycle_url, {"type": "uninstall", "data": {
            "app_id": 10001, "user_id": USER_ID, "account_id": account.account_id, "account_name": name.title(),
            "timestamp": trigger_time(time.time())}})
        return status

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        redirect, state = q.get("redirect_uri", ""), q.get("state", "")
        if self.oauth_client is None or q.get("client_id") != self.oauth_client[0] or not redirect:
            return web.Response(status=400, text="unknown client_id or no redirect_uri")
        if self.oauth_deny:
            raise web.HTTPFound(f"{redirect}?{urlencode({'error': 'access_denied', 'state': state})}")
        self.add_oauth_account(self.oauth_installer, self.oauth_boards)
        code = secrets.token_hex(16)
        self.codes[code] = (self.oauth_installer, redirect, time.time() + self.oauth_code_ttl)
        raise web.HTTPFound(f"{redirect}?{urlencode({'code': code, 'state': state})}")

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if self.token_down:
            return web.json_response({"error": "temporarily_unavailable"}, status=503)
        if self.oauth_client is None or (form.get("client_id"), form.get("client_secret")) != self.oauth_client:
            return web.json_response({"error": "invalid_client"}, status=401)
        found = self.codes.pop(str(form.get("code", "")), None)  # single use
        if found is None or found[2] < time.time() or found[1] != form.get("redirect_uri"):
            return web.json_response({"error": "invalid_grant"}, status=400)
        token = "mon-at-" + secrets.token_urlsafe(24)
        self.access_tokens[token] = found[0]
        return web.json_response({"access_token": token, "token_type": "Bearer", "scope": "boards:read webhooks:write"})

    def jwt(self, url: str) -> str:
        assert self.signing_secret is not None
        now = int(time.time())
        claims = {"accountId": ACCOUNT_ID, "userId": USER_ID, "aud": url, "iat": now, "exp": now + 300,
                  "shortLivedToken": "fake-short-lived", "jti": secrets.token_hex(8)}  # each request's own
        return jwt.encode(claims, self.signing_secret, algorithm="HS256")

    async def _post(self, url: str, body: dict[str, Any]) -> tuple[int, Any]:
        headers = {"content-type": "application/json", "user-agent": "monday-fake/1"}
        if self.signing_secret:
            headers["authorization"] = self.jwt(url)
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        try:
            async with self._session.post(url, json=body, headers=headers) as resp:
                try:
                    answer = await resp.json(content_type=None)
                except ValueError:
                    answer = None
                return resp.status, answer
        except (aiohttp.ClientError, TimeoutError):
            return 0, None

    # -- events, shaped like monday's ---------------------------------------------------------------
    def event(
        self, event_type: str, board_id: str = DEFAULT_BOARD, at: float | None = None, **fields: Any
    ) -> dict[str, Any]:
        """An `event` object of the given payload type (create_pulse, update_column_value, ...)."""
        ts = at if at is not None else time.time()
        return {
            "app": "monday",
            "type": event_type,
            "triggerTime": trigger_time(ts),
            "subscriptionId": 0,
            "userId": USER_ID,
            "originalTriggerUuid": None,
            "boardId": int(board_id),
            "triggerUuid": uuidlib.uuid4().hex,
            **fields,
        }

    async def deliver(self, subscription_event: str, event: dict[str, Any]) -> list[int]:
        """POST `{"event": event}` to every webhook of the event's board subscribed to `subscription_event`."""
        statuses = []
        for hook in list(self.webhooks.values()):
            if hook.board_id != str(event.get("boardId")) or hook.event != subscription_event:
                continue
            status, _ = await self._post(hook.url, {"event": {**event, "subscriptionId": int(hook.id)}})
            self.deliveries.append((hook.id, str(event.get("type")), status))
            statuses.append(status)
        return statuses

    # -- the HTTP API -------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes([web.post("/v2", self._graphql), web.post("/_fake/events", self._fake_events),
                        web.get("/oauth2/authorize", self._authorize), web.post("/oauth2/token", self._token)])
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _injected_failure(self) -> web.Response | None:
        """An outage, or the next status a test scripted: answered before anything is done (a retry is safe)."""
        if self.api_down:
            return _gql_error("Internal server error", "INTERNAL_SERVER_ERROR", 500)
        if self.failures:
            status = self.failures.pop(0)
            headers = {"Retry-After": str(self.retry_after)} if status == 429 and self.retry_after is not None else None
            return web.json_response({"error_message": "Internal server error", "status_code": status},
                                     status=status, headers=headers)
        return None

    async def _graphql(self, request: web.Request) -> web.Response:
        auth = request.headers.get("authorization", "")
        installed = self.access_tokens.get(auth.removeprefix("Bearer "))
        if installed is None and not secrets.compare_digest(auth.encode(), self.token.encode()):
            return self._injected_failure() or _gql_error("Not Authenticated", "UNAUTHENTICATED", 401)
        mine = self.oauth_accounts[installed] if installed is not None else None
        failed = self._injected_failure()
        if failed is not None:
            return failed
        try:
            body = await request.json()
            query, variables = str(body["query"]), dict(body.get("variables") or {})
        except (ValueError, KeyError, TypeError):
            return _gql_error("No query string was present", "BAD_REQUEST", 400)
        match = _FIELD.search(query)
        if match is None:
            return _gql_error("this fake answers me, webhooks, create_webhook, delete_webhook, create_item and"
                              " change_multiple_column_values only")
        name, args = match[1], _args(match[3] or "", variables)
        if name == "me":
            me = {"id": str(USER_ID), "name": "Fake User", "email": "user@example.com",
                  "account": {"id": str(ACCOUNT_ID), "name": "Fake Co"}}
            if mine is not None:
                me["account"] = {"id": str(mine.account_id), "name": mine.name.title()}
            return web.json_response({"data": {"me": me}})
        if name == "boards":  # monday pages boards: `limit` (default 25) per `page` (from 1)
            listed = mine.boards if mine is not None else {b: f"Board {b}" for b in sorted(self.boards)}
            try:
                limit, page = int(args.get("limit") or 25), int(args.get("page") or 1)
            except (TypeError, ValueError):
                return _gql_error("limit and page must be integers")
            items = list(listed.items())[(page - 1) * limit: page * limit]
            return web.json_response({"data": {"boards": [{"id": b, "name": n} for b, n in items]}})
        if mine is not None and name == "create_webhook" and str(args.get("board_id")) not in mine.boards:
            return _gql_error("Board not found")
        if name == "webhooks":
            board = str(args.get("board_id"))
            hooks = [h.public() for h in self.webhooks.values() if h.board_id == board]
            return web.json_response({"data": {"webhooks": hooks}})
        if name == "delete_webhook":
            hook = self.webhooks.pop(str(args.get("id")), None)
            if hook is None:
                return _gql_error("Webhook not found")
            return web.json_response({"data": {"delete_webhook": {"id": hook.id, "board_id": hook.board_id}}})
        if name == "create_item":
            return self._create_item(args)
        if name == "change_multiple_column_values":
            return self._change_columns(args)
        return await self._create_webhook(args)

    @staticmethod
    def _columns(raw: Any) -> dict[str, Any] | None:
        """column_values as monday takes it: a JSON text of an object (None when absent)."""
        if raw is None:
            return {}
        try:
            values = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            values = None
        return values if isinstance(values, dict) else None

    def _create_item(self, args: dict[str, Any]) -> web.Response:
        board, group, name = str(args.get("board_id")), args.get("group_id"), args.get("item_name")
        if board not in self.boards:
            return _gql_error("Board not found", "ResourceNotFoundException")
        if group is not None and group not in self.groups:
            return _gql_error("Group not found", "InvalidGroupIdException")
        if not isinstance(name, str) or not name.strip():
            return _gql_error("item_name is required")
        columns = self._columns(args.get("column_values"))
        if columns is None:
            return _gql_error("column_values must be a JSON object", "ColumnValueException")
        item_id = str(self._next_id)
        self._next_id += 1
        self.items[item_id] = {"board": board, "group": group or "topics", "name": name, "columns": columns}
        return web.json_response({"data": {"create_item": {"id": item_id, "name": name}}})

    def _change_columns(self, args: dict[str, Any]) -> web.Response:
        item = self.items.get(str(args.get("item_id")))
        if item is None or item["board"] != str(args.get("board_id")):
            return _gql_error("Item not found in board", "ResourceNotFoundException")
        columns = self._columns(args.get("column_values"))
        if not columns:
            return _gql_error("column_values must be a JSON object", "ColumnValueException")
        item["columns"].update(columns)
        return web.json_response({"data": {"change_multiple_column_values": {"id": str(args.get("item_id")),
                                                                              "name": item["name"]}}})

    async def _create_webhook(self, args: dict[str, Any]) -> web.Response:
        board, url, event = str(args.get("board_id")), args.get("url"), str(args.get("event"))
        if board not in self.boards:
            return _gql_error("Board not found")
        if event not in catalog.SUBSCRIPTIONS:
            return _gql_error(f"Argument 'event' has an invalid value ({event})", "GRAPHQL_VALIDATION_FAILED")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return _gql_error("Invalid url")
        # monday checks the URL before creating the webhook: it must echo the challenge.
        challenge = secrets.token_urlsafe(24)
        status, answer = await self._post(url, {"challenge": challenge})
        if status != 200 or not isinstance(answer, dict) or answer.get("challenge") != challenge:
            return _gql_error(f"Failed to communicate with URL provided. (challenge answered {status})")
        config = args.get("config")
        hook = Webhook(str(self._next_id), board, event, None if config is None else str(config), url)
        self._next_id += 1
        self.webhooks[hook.id] = hook
        return web.json_response({"data": {"create_webhook": hook.public()}})

    async def _fake_events(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not str(body.get("board_id", DEFAULT_BOARD)).isdigit():
            return web.json_response({"error": "send {event, board_id, fields}"}, status=400)
        subscription = body.get("event", "create_item")
        fields = dict(body.get("fields") or {})
        payload_type = catalog.SUBSCRIPTIONS.get(str(subscription), str(subscription))
        event = self.event(payload_type, str(body.get("board_id", DEFAULT_BOARD)), **fields)
        statuses = await self.deliver(subscription, event)
        return web.json_response({"event": event, "deliveries": statuses})
