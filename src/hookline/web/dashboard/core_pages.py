"""The core's pages: sign-in and sign-out, the home redirect, and operations (pipeline, event log,
deliveries with their retry button, destinations). Provider pages register next to these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hookline.forwarding import deliveries
from hookline.forwarding.destinations import DestinationStore
from hookline.pipeline import jobs
from hookline.store import events as event_log
from hookline.store.engine import Database
from hookline.web.admin_token import AdminTokenVerifier
from hookline.web.dashboard.forms import FormRefused, checked_form, read_form, safe_next, same_origin
from hookline.web.dashboard.session import COOKIE, MAX_AGE, Sessions
from hookline.web.dashboard.ui import Dashboard, NavEntry, Page, session_of, ui_of
from hookline.web.params import BadQuery, int_param, str_param
from hookline.web.reads import in_thread, read, runtime_of
from hookline.web.responses import error
from hookline.web.throttle import SignInThrottle, client_address

PAGE = 50


@dataclass(frozen=True)
class SignIn:
    """What the sign-in pages use besides the runtime (kept on the app's state by `dashboard.build`)."""

    sessions: Sessions
    verifier: AdminTokenVerifier
    throttle: SignInThrottle


def sign_in_of(request: Request) -> SignIn:
    sign_in: SignIn = request.app.state.sign_in
    return sign_in


async def login_form(request: Request) -> Response:
    if session_of(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return ui_of(request).render(request, "login.html", next=safe_next(request.query_params.get("next")), failed=False)


async def login(request: Request) -> Response:
    if not same_origin(request):
        return error(403, "csrf", "cross-origin form refused")
    try:
        fields = await read_form(request)
    except FormRefused as exc:
        return exc.response
    ui, pieces = ui_of(request), sign_in_of(request)
    target = safe_next(fields.get("next"))
    address = client_address(request.scope)
    wait = pieces.throttle.retry_after(address)
    if wait is not None:  # refused without looking at the token: a guesser learns nothing
        pieces.throttle.refused("login")
        page = ui.render(request, "login.html", status=429, next=target, failed=False, wait=wait)
        page.headers["retry-after"] = str(wait)
        return page
    ok = await in_thread(pieces.verifier.verify, fields.get("token", "").strip() or None)
    if not ok:
        pieces.throttle.failed(address, "/login", "login")
        return ui.render(request, "login.html", status=401, next=target, failed=True)
    cookie = await in_thread(pieces.sessions.issue, request.headers.get("user-agent"))
    response = RedirectResponse(target, status_code=303)
    secure_cookie = (runtime_of(request).settings.public_url or "").startswith("https://")
    response.set_cookie(
        COOKIE, cookie, max_age=MAX_AGE, path="/", httponly=True, samesite="strict",
        secure=secure_cookie or request.url.scheme == "https",
    )
    return response


def _signed_out() -> Response:
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
        await in_thread(sign_in_of(request).sessions.revoke, session)
    return _signed_out()


async def logout_everywhere(request: Request) -> Response:
    try:
        await checked_form(request)
    except FormRefused as exc:
        return exc.response
    await in_thread(sign_in_of(request).sessions.revoke_all)
    return _signed_out()


async def home(request: Request) -> Response:
    return RedirectResponse(ui_of(request).home or "/operations", status_code=303)


def _destinations(db: Database) -> list[dict[str, Any]]:
    counts = deliveries.counts_by_state(db)
    return [{**d.public(), "deliveries": counts.get(d.name, {})} for d in DestinationStore(db).list()]


def _operations(db: Database, sessions: Sessions) -> dict[str, Any]:
    with db.connection() as conn:
        stats = jobs.stats(conn)
    failed = deliveries.list_deliveries(db, deliveries.FILTERS["failed"], None, 10)
    return {"stats": stats, "destinations": _destinations(db), "failed": failed, "sessions": len(sessions.active())}


async def operations(request: Request) -> Response:
    ui = ui_of(request)
    data = await in_thread(_operations, runtime_of(request).db, sign_in_of(request).sessions)
    sections = [(title, await section(request)) for title, section in ui.sections]
    return ui.render(request, "operations.html", sections=sections, lag=data["stats"].lag_seconds(),
                     notice=_retry_notice(request.query_params), **data)


async def event_list(request: Request) -> Response:
    ui = ui_of(request)
    q = request.query_params
    try:
        cursor = int_param(q, "cursor", None, 1, 2**62)
        flt = event_log.EventFilter(
            provider=str_param(q, "provider"), event=str_param(q, "event"), account=str_param(q, "account"),
            before_id=cursor,
        )
    except BadQuery as exc:
        return ui.render(request, "events.html", status=400, events=[], more=None, problem=str(exc), q=q)
    rows = await read(request, event_log.list_events, flt, PAGE + 1)
    more = None
    if len(rows) > PAGE:
        rows = rows[:PAGE]
        more = urlencode({**{k: v for k, v in q.items() if k != "cursor"}, "cursor": rows[-1]["id"]})
    notes = [await note(request) for note in ui.event_log_notes]
    return ui.render(request, "events.html", events=rows, more=more, problem=None, q=q, notes=notes)


async def event_page(request: Request) -> Response:
    ui = ui_of(request)
    raw = request.path_params["id"]
    if not raw.isdigit() or int(raw) > 2**62:
        return ui.render(request, "missing.html", status=400, what=f"event {raw!r}")
    found = await read(request, event_log.get_event, int(raw))
    if found is None:
        return ui.render(request, "missing.html", status=404, what=f"event {raw}")
    meta, body = found
    provider = next((p for p in runtime_of(request).providers if p.name == meta["provider"]), None)
    shown = provider.displayed_body(body) if provider is not None else body
    return ui.render(request, "event.html", event=meta, body=shown.decode("utf-8", "replace"))


async def delivery_list(request: Request) -> Response:
    q = request.query_params
    state = q.get("state") or "failed"
    if state not in deliveries.FILTERS and state != "all":
        state = "failed"
    destination = q.get("destination") or None
    states = () if state == "all" else deliveries.FILTERS[state]
    rows = await in_thread(deliveries.list_deliveries, runtime_of(request).db, states, destination, 100)
    return ui_of(request).render(
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
        await in_thread(deliveries.retry, runtime_of(request).db, int(raw))
    except (LookupError, deliveries.RetryRefused):
        outcome = "refused"
    # The page says what happened from the id alone: no text of ours travels in the URL.
    back = safe_next(fields.get("back"), "/deliveries")
    back = back.split("?")[0] + "?" + urlencode(
        [(k, v) for k, v in _query_pairs(back) if k not in ("retried", "refused")] + [(outcome, raw)]
    )
    return RedirectResponse(back, status_code=303)


async def destination_list(request: Request) -> Response:
    rows = await in_thread(_destinations, runtime_of(request).db)
    return ui_of(request).render(request, "destinations.html", destinations=rows)


PAGES = [
    # Sign-in is the one page without a session.
    Page("/login", login_form, ["GET"], public=True),
    Page("/login", login, ["POST"], public=True),
    Page("/logout", logout, ["POST"]),
    Page("/logout/everywhere", logout_everywhere, ["POST"]),
    Page("/", home),
    Page("/operations", operations),
    Page("/events", event_list),
    Page("/events/{id}", event_page),
    Page("/deliveries", delivery_list),
    Page("/deliveries/{id}/retry", delivery_retry, ["POST"]),
    Page("/destinations", destination_list),
]
NAV = [
    NavEntry("Operations", "/operations", 80),
    NavEntry("Events", "/events", 85),
    NavEntry("Deliveries", "/deliveries", 90),
    NavEntry("Destinations", "/destinations", 95),
]


def register(ui: Dashboard) -> None:
    ui.add_pages(PAGES, NAV)


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
