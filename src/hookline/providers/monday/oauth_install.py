"""A monday.com OAuth install: the code exchange, the installer's account (GraphQL `me`), then one
transaction for the account (token and the app's signing secret sealed) and its installation.

After the callback the installer picks boards: a page lists the account's boards with checkboxes,
posted back with a single-use state bound to the same browser cookie; each picked board gets webhooks
created through the GraphQL `create_webhook` mutation (monday checks the URL with a challenge that
the receiver answers). The app's `uninstall` lifecycle event (a JWT signed with the signing secret),
or a 401 with the account's token, marks the account uninstalled: its events are refused, its data
stays, a re-install brings it back.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

import jwt
import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hookline.oauth import flow, installations
from hookline.oauth import state as oauth_state
from hookline.oauth.apps import AppStore, OAuthAppError
from hookline.oauth.flow import Flow, InstallFailed
from hookline.oauth.pages import choice_page, page
from hookline.oauth.tokens import clear_failing, mark_failing, token_url_for
from hookline.providers.monday.accounts import box_for, mask
from hookline.providers.monday.api import MondayAPIError, MondayClient
from hookline.secretbox import SecretBox
from hookline.store.engine import Connection
from hookline.store.queries import load_queries
from hookline.web.dashboard.forms import MAX_FORM_BYTES, same_origin

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from hookline.runtime import Runtime

log = structlog.get_logger(__name__)
Q = load_queries(__package__)

PROVIDER = "monday"
DEFAULT_AUTHORIZE_URL = "https://auth.monday.com/oauth2/authorize"
DEFAULT_API_URL = "https://api.monday.com/v2"
BOARDS_PATH = "/monday/oauth/boards"
LIFECYCLE_PATH = "/monday/oauth/lifecycle"
# Each picked board gets one webhook per event: new items, column changes, names, removals.
BOARD_EVENTS = ("create_item", "change_column_value", "change_name", "item_archived", "item_deleted")
# monday pages its boards: a page at a time until a short one (MAX_BOARD_PAGES bounds a runaway answer).
BOARDS = "query ($limit: Int!, $page: Int!) { boards(limit: $limit, page: $page) { id name } }"
BOARD_PAGE = 100
MAX_BOARD_PAGES = 100
LIFECYCLE_LEEWAY = 30  # seconds of clock skew a lifecycle JWT's exp is given


def account_name_for(label: str, account_id: str) -> str:
    return installations.account_name_for(label, f"monday-{account_id}")


def webhook_url(public_url: str, account: str) -> str:
    return f"{public_url.rstrip('/')}/monday/webhook?{urlencode({'account': account})}"


def save_install(conn: Connection, box: SecretBox, *, label: str, account_id: str, access_token: str,
                 signing_secret: str, api_url: str) -> tuple[str, bool]:
    """Every database write of an install, in the caller's transaction; (account, created)."""
    name, created = installations.account_for(conn, PROVIDER, account_id, account_name_for(label, account_id),
                                              lambda n: conn.scalar(Q.account_exists, (n,)) is not None)
    conn.execute(Q.save_oauth_account, (name, box.seal(access_token), mask(access_token), box.seal(signing_secret),
                                        account_id, time.time(), api_url))
    installations.record_install(conn, PROVIDER, name, account_id, None)
    return name, created


class Installer(flow.Installer):
    """monday.com's part: the account and its boards (webhooks come once the admin picks boards)."""

    provider, label = PROVIDER, "monday.com"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, box_for(runtime.settings))

    async def install(self, code: str, browser: str) -> tuple[str, bool, list[tuple[str, str]], str]:
        """(account, created, its boards as (id, name), the board picker's state for `browser`)."""
        app = await asyncio.to_thread(self.app)
        secret, signing = self.secrets(app, signing=True)
        assert signing is not None
        async with self.session() as session:
            grant = await self.exchange(session, app, token_url_for(app.authorize_url), code, secret, form=True)
            async with MondayClient(app.api_url, grant.access_token, session) as client:
                try:
                    me = await client.me()
                    boards = await all_boards(client)
                except MondayAPIError as exc:
                    log.error("monday.oauth_failed", step="api", error=exc.message)
                    raise InstallFailed(502, "monday.com is unavailable", "monday.com failed while setting up "
                                        "the installation. Try again in a few minutes.") from None
        found = me.get("account")
        account: dict[str, Any] = found if isinstance(found, dict) else {}
        account_id = str(account.get("id") or "")
        if not account_id:
            raise InstallFailed(502, "monday.com is unavailable", "monday.com did not say which account "
                                "installed the app.")
        label = str(account.get("name") or "")

        def save(conn: Connection) -> tuple[str, bool, str]:
            name, created = save_install(conn, self.box, label=label, account_id=account_id,
                                         access_token=grant.access_token, signing_secret=signing, api_url=app.api_url)
            # The picker's state in the same transaction: when it cannot be issued, no account is kept.
            try:
                state = oauth_state.issue_on(conn, PROVIDER + ":boards", browser, payload=name)
            except oauth_state.TooManyPending:
                raise InstallFailed(429, "Too many installations", "Too many installations are in progress, so "
                                    "nothing was installed; install the app again from monday.com in a few "
                                    "minutes.") from None
            return name, created, state

        name, created, state = await self.store(save)
        self._expire_cache()
        log.info("monday.oauth_installed", account=name, created=created)
        listed = [(str(b["id"]), str(b.get("name") or b["id"])) for b in boards if isinstance(b, dict) and b.get("id")]
        return name, created, listed, state

    def _expire_cache(self) -> None:
        cache = self.runtime.state.get("monday.accounts")
        if cache is not None:
            cache.expire()

    async def create_webhooks(self, account: str, boards: list[str]) -> int:
        """Webhooks for the picked boards (the account's existing ones on those boards are kept)."""
        from hookline.providers.monday.accounts import AccountStore

        found = await asyncio.to_thread(AccountStore(self.db, self.box).get, account)
        public = self.runtime.settings.public_url
        if found is None or public is None:
            raise InstallFailed(400, "Installation not found", "Start the installation again from monday.com.")
        target = webhook_url(public, account)
        have = await asyncio.to_thread(self._webhooks_of, account)  # off the event loop, as every write here
        made = 0
        async with self.session() as session, \
                MondayClient(found.api_url or DEFAULT_API_URL, found.token, session) as client:
            for board in boards:
                for event in BOARD_EVENTS:
                    if (board, event) in have:
                        continue
                    try:
                        hook = await client.create_webhook(board, target, event)
                    except MondayAPIError as exc:
                        if exc.status == 401:
                            await asyncio.to_thread(self._uninstalled, account, "api_401")
                            raise InstallFailed(401, "Access was removed", "monday.com no longer accepts this "
                                                "installation. Install the app again from monday.com.") from None
                        log.error("monday.oauth_failed", step="webhooks", account=account, error=exc.message)
                        # Installed, but its boards send nothing: failing on the Installations page until
                        # webhooks are made (a later pick of boards, or a re-install).
                        await asyncio.to_thread(mark_failing, self.db, PROVIDER, account,
                                                f"creating board webhooks failed: {exc.message}")
                        raise InstallFailed(502, "monday.com is unavailable", f"monday.com failed while creating "
                                            f"webhooks ({made} created). Try again in a few minutes.") from None
                    await asyncio.to_thread(self._save_webhook, str(hook["id"]), account, board, event, target)
                    made += 1
        await asyncio.to_thread(clear_failing, self.db, PROVIDER, account)
        return made

    def _webhooks_of(self, account: str) -> set[tuple[str, str]]:
        """(board, event) of the webhooks the account has already."""
        with self.db.connection() as conn:
            return {(str(b), str(e)) for _i, b, e in conn.fetchall(Q.account_webhooks, (account,))}

    def _save_webhook(self, hook_id: str, account: str, board: str, event: str, target: str) -> None:
        with self.db.connection() as conn:
            conn.execute(Q.save_webhook, (hook_id, account, board, event, target, time.time()))

    def _uninstalled(self, account: str, reason: str) -> None:
        with self.db.connection() as conn, conn.transaction():
            done = installations.mark_uninstalled(conn, PROVIDER, account, reason)
        if done:
            log.warning("monday.oauth_uninstalled", account=account, reason=reason)
        self._expire_cache()

    def lifecycle(self, token: str, body: Any) -> int:
        """The app's lifecycle event (JWT signed with the signing secret, accepted once while it is
        valid): `uninstall` uninstalls the account it names. The HTTP status to answer."""
        app = AppStore(self.db, self.box).get(PROVIDER)
        try:
            signing = app.webhook_secret(self.box) if app is not None else None
        except OAuthAppError:
            return 503
        if signing is None:
            return 404
        token = token.removeprefix("Bearer ").strip()
        try:
            claims = jwt.decode(token, signing, algorithms=["HS256"], leeway=LIFECYCLE_LEEWAY,
                                options={"verify_aud": False, "require": ["exp"]})
        except jwt.InvalidTokenError:
            return 401
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            return 400
        uninstalled = None
        with self.db.connection() as conn, conn.transaction():
            # The token does not sign the body: a replay could name another account. Remembered with
            # what it does, so a failure leaves it usable for monday.com's retry.
            if not first_use(conn, token, float(claims["exp"]) + LIFECYCLE_LEEWAY):
                log.warning("monday.lifecycle_replayed", lifecycle=str(body.get("type"))[:32])
                return 401
            if body.get("type") != "uninstall":
                return 200  # install, upgrades...: nothing to do
            found = installations.by_external_id(conn, PROVIDER, str(body["data"].get("account_id") or ""))
            if found is not None and installations.mark_uninstalled(conn, PROVIDER, found.account, "app_uninstall"):
                uninstalled = found.account
        if uninstalled is not None:
            log.warning("monday.oauth_uninstalled", account=uninstalled, reason="app_uninstall")
            self._expire_cache()
        return 200


async def all_boards(client: MondayClient) -> list[Any]:
    """Every board the installer can see, page after page (monday answers at most `limit` a page)."""
    boards: list[Any] = []
    for number in range(1, MAX_BOARD_PAGES + 1):
        found = (await client.graphql(BOARDS, {"limit": BOARD_PAGE, "page": number})).get("boards") or []
        boards.extend(found)
        if len(found) < BOARD_PAGE:
            break
    return boards


def first_use(conn: Connection, token: str, expires_at: float) -> bool:
    """True the first time `token` is seen (remembered until `expires_at`), False for a replay."""
    conn.execute(Q.forget_expired_lifecycle_tokens, (time.time(),))
    digest = hashlib.sha256(token.encode()).hexdigest()
    return bool(conn.execute(Q.remember_lifecycle_token, (digest, expires_at)).rowcount)


async def _form(request: Request) -> dict[str, list[str]] | None:
    """The posted form (urlencoded, small; repeated fields kept), None for anything else."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return None


def routes(runtime: Runtime) -> list[BaseRoute]:
    installer = Installer(runtime)
    public = runtime.settings.public_url

    async def installed(code: str, _payload: str | None, request: Request) -> Response:
        browser = request.cookies.get(oauth_state.COOKIE) or oauth_state.new_browser_id()
        name, created, boards, state = await installer.install(code, browser)
        verb = "connected" if created else "reconnected"
        response = choice_page(
            "monday.com connected", f"Account {name} is {verb} to hookline. Pick the boards whose events "
            "hookline receives (more can be added by installing again).", action=BOARDS_PATH, state=state,
            legend="Boards", options=boards, submit="Receive events of these boards")
        flow.set_browser_cookie(response, the_flow, browser)
        return response

    async def pick(request: Request) -> Response:
        form = await _form(request)
        if form is None or not same_origin(request):
            return page(400, "Not a board choice", "Pick the boards on the page hookline showed after the install.")
        state = (form.get("state") or [""])[-1]
        fresh, account = await asyncio.to_thread(oauth_state.take, runtime.db, PROVIDER + ":boards", state,
                                                 request.cookies.get(oauth_state.COOKIE))
        if not fresh or account is None:
            return page(400, "Page expired", "This page was used already, expired, or was opened in another "
                        "browser. Install the app again from monday.com to pick boards.")
        boards = list(dict.fromkeys(b for b in form.get("choice", []) if b.isdigit()))[:100]
        try:
            made = await installer.create_webhooks(account, boards)
        except InstallFailed as exc:
            return page(exc.status, exc.title, exc.message)
        return page(200, "Boards connected", f"{len(boards)} board(s) of {account} now send their events to "
                    f"hookline ({made} webhook(s) created). You can close this page.")

    async def lifecycle(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        status = await asyncio.to_thread(installer.lifecycle, request.headers.get("authorization", ""), body)
        return JSONResponse({"ok": status == 200}, status_code=status)

    the_flow = Flow(PROVIDER, "monday.com", runtime.db, installer.box, public, installed)
    return [*flow.routes(the_flow), Route(BOARDS_PATH, pick, methods=["POST"]),
            Route(LIFECYCLE_PATH, lifecycle, methods=["POST"])]
