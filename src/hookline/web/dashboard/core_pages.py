"""The core's pages: sign-in and sign-out, the home redirect, and operations (pipeline, event log,
deliveries with their retry button, destinations). Provider pages register next to these."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hookline.forwarding import deliveries
from hookline.forwarding.destinations import DestinationStore
from hookline.pipeline import jobs
from hookline.store import events as event_log
from hookline.web.admin_token import AdminTokenVerifier
from hookline.web.dashboard.forms import FormRefused, checked_form, read_form, safe_next, same_origin
from hookline.web.dashboard.session import COOKIE, MAX_AGE, Sessions
from hookline.web.dashboard.ui import Dashboard, session_of
from hookline.web.params import BadQuery, int_param, str_param
from hookline.web.responses import error
from hookline.web.throttle import SignInThrottle, client_address

PAGE = 50


def register(ui: Dashboard, sessions: Sessions, verifier: AdminTokenVerifier, throttle: SignInThrottle) -> None:  # noqa: C901
    runtime = ui.runtime
    db = runtime.db
    providers = {p.name: p for p in runtime.providers}
    secure_cookie = (runtime.settings.public_url or "").startswith("https://")

    async def login_form(request: Request) -> Response:
        if session_of(request) is not None:
            return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
        return ui.render(request, "login.html", next=safe_next(request.query_params.get("next")), failed=False)

    async def login(request: Request) -> Response:
        if not same_origin(request):
            return error(403, "csrf", "cross-origin form refused")
        try:
            fields = await read_form(request)
        except FormRefused as exc:
            return exc.response
        target = safe_next(fields.get("next"))
        address = client_address(request.scope)
        wait = throttle.retry_after(address)
        if wait is not None:  # refused without looking at the token: a guesser learns nothing
            throttle.refused("login")
            page = ui.render(request, "login.html", status=429, next=target, failed=False, wait=wait)
            page.headers["retry-after"] = str(wait)
            return page
        ok = await run_in_threadpool(verifier.verify, fields.get("token", "").strip() or None)
        if not ok:
            throttle.failed(address, "/login", "login")
            return ui.render(request, "login.html", status=401, next=target, failed=True)
        cookie = await run_in_threadpool(sessions.issue, request.headers.get("user-agent"))
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE, cookie, max_age=MAX_AGE, path="/", httponly=True, samesite="strict",
            secure=secure_cookie or request.url.scheme == "https",
        )
        return response

    def signed_out() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    async def logout(request: Request) -> Response:
        try:
            await checked_form(request)
        except FormRefused as exc:
            return exc.response
        session = session_of(request)
        if session is not None:  # always so: checked_form refuses a request without one
            await run_in_threadpool(sessions.revoke, session)
        return signed_out()

    async def logout_everywhere(request: Request) -> Response:
        try:
            await checked_form(request)
        except FormRefused as exc:
            return exc.response
        await run_in_threadpool(sessions.revoke_all)
        return signed_out()

    async def home(request: Request) -> Response:
        return RedirectResponse(ui.home or "/operations", status_code=303)

    async def operations(request: Request) -> Response:
        def query() -> dict[str, Any]:
            with db.connection() as conn:
                stats = jobs.stats(conn)
            counts = deliveries.counts_by_state(db)
            dests = [{**d.public(), "deliveries": counts.get(d.name, {})} for d in DestinationStore(db).list()]
            failed = deliveries.list_deliveries(db, deliveries.FILTERS["failed"], None, 10)
            return {"stats": stats, "destinations": dests, "failed": failed, "sessions": len(sessions.active())}

        data = await run_in_threadpool(query)
        sections = [(title, await section(request)) for title, section in ui.sections]
        return ui.render(request, "operations.html", sections=sections, lag=data["stats"].lag_seconds(),
                         notice=_retry_notice(request.query_params), **data)

    async def event_list(request: Request) -> Response:
        q = request.query_params
        try:
            cursor = int_param(q, "cursor", None, 1, 2**62)
            flt = event_log.EventFilter(
                provider=str_param(q, "provider"), event=str_param(q, "event"), account=str_param(q, "account"),
                before_id=cursor,
            )
        except BadQuery as exc:
            return ui.render(request, "events.html", status=400, events=[], more=None, problem=str(exc), q=q)

        def query() -> list[dict[str, Any]]:
            with db.connection() as conn:
                return event_log.list_events(conn, flt, PAGE + 1)

        rows = await run_in_threadpool(query)
        more = None
        if len(rows) > PAGE:
            rows = rows[:PAGE]
            more = urlencode({**{k: v for k, v in q.items() if k != "cursor"}, "cursor": rows[-1]["id"]})
        return ui.render(request, "events.html", events=rows, more=more, problem=None, q=q)

    async def event_page(request: Request) -> Response:
        raw = request.path_params["id"]
        if not raw.isdigit() or int(raw) > 2**62:
            return ui.render(request, "missing.html", status=400, what=f"event {raw!r}")

        def query() -> tuple[dict[str, Any], bytes] | None:
            with db.connection() as conn:
                return event_log.get_event(conn, int(raw))

        found = await run_in_threadpool(query)
        if found is None:
            return ui.render(request, "missing.html", status=404, what=f"event {raw}")
        meta, body = found
        provider = providers.get(meta["provider"])
        shown = provider.displayed_body(body) if provider is not None else body
        return ui.render(request, "event.html", event=meta, body=shown.decode("utf-8", "replace"))

    async def delivery_list(request: Request) -> Response:
        q = request.query_params
        state = q.get("state") or "failed"
        if state not in deliveries.FILTERS and state != "all":
            state = "failed"
        destination = q.get("destination") or None

        def query() -> list[dict[str, Any]]:
            states = () if state == "all" else deliveries.FILTERS[state]
            return deliveries.list_deliveries(db, states, destination, 100)

        rows = await run_in_threadpool(query)
        return ui.render(
            request, "deliveries.html", deliveries=rows, state=state, states=["all", *deliveries.FILTERS],
            destination=destination, notice=_retry_notice(q),
        )

    async def delivery_retry(request: Request) -> Response:
        try:
            fields = await checked_form(request)
        except FormRefused as exc:
            return exc.response
        raw = request.path_params["id"]
        if not raw.isdigit() or int(raw) > 2**62:
            return error(400, "invalid_id", "delivery id must be a positive integer")
        outcome = "retried"
        try:
            await run_in_threadpool(deliveries.retry, db, int(raw))
        except (LookupError, deliveries.RetryRefused):
            outcome = "refused"
        # The page says what happened from the id alone: no text of ours travels in the URL.
        back = safe_next(fields.get("back"), "/deliveries")
        back = back.split("?")[0] + "?" + urlencode(
            [(k, v) for k, v in _query_pairs(back) if k not in ("retried", "refused")] + [(outcome, raw)]
        )
        return RedirectResponse(back, status_code=303)

    async def destination_list(request: Request) -> Response:
        def query() -> list[dict[str, Any]]:
            counts = deliveries.counts_by_state(db)
            return [{**d.public(), "deliveries": counts.get(d.name, {})} for d in DestinationStore(db).list()]

        return ui.render(request, "destinations.html", destinations=await run_in_threadpool(query))

    ui.routes.extend(
        [
            # Sign-in is the one page without a session.
            _route("/login", login_form, ["GET"]),
            _route("/login", login, ["POST"]),
        ]
    )
    ui.page("/logout", logout, ["POST"])
    ui.page("/logout/everywhere", logout_everywhere, ["POST"])
    ui.page("/", home)
    ui.page("/operations", operations)
    ui.page("/events", event_list)
    ui.page("/events/{id}", event_page)
    ui.page("/deliveries", delivery_list)
    ui.page("/deliveries/{id}/retry", delivery_retry, ["POST"])
    ui.page("/destinations", destination_list)
    ui.add_nav("Operations", "/operations", 80)
    ui.add_nav("Events", "/events", 85)
    ui.add_nav("Deliveries", "/deliveries", 90)
    ui.add_nav("Destinations", "/destinations", 95)


def _query_pairs(url: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(url.partition("?")[2], keep_blank_values=True)


def _retry_notice(q: Any) -> str | None:
    """The notice after a Retry button, from the delivery id in the redirect."""
    retried, refused = q.get("retried", ""), q.get("refused", "")
    if retried.isdigit():
        return f"delivery {retried} will be sent again now"
    if refused.isdigit():
        return f"delivery {refused} cannot be retried: it succeeded already or no longer exists"
    return None


def _route(path: str, endpoint: Any, methods: list[str]) -> Any:
    from starlette.routing import Route

    from hookline.web.dashboard.ui import SECURITY_HEADERS

    async def with_headers(request: Request) -> Response:
        response: Response = await endpoint(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return Route(path, with_headers, methods=methods)
