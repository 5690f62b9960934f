"""Calendly on the dashboard: the Bookings page (the `bookings` projection, filtered, 50 a page), a
booking's page (its questions and answers, its reschedule chain), and the operations rows (per
account, its webhook subscriptions' state and the last event received). Queries and serialisation
are bookings_api's, the same as GET /api/bookings."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hookline.providers.calendly.bookings_api import (
    booking_by_id,
    booking_filters,
    page_of_bookings,
    reschedule_chain,
)
from hookline.store.engine import Connection
from hookline.store.events import last_received
from hookline.store.queries import load_queries
from hookline.web.dashboard.ui import AccountRow, Dashboard, NavEntry, Page, next_page, ui_of
from hookline.web.params import MAX_OFFSET, BadQuery, int_param
from hookline.web.reads import read

Q = load_queries(__package__)
TEMPLATES = Path(__file__).parent / "templates"
PAGE = 50
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


def account_rows(conn: Connection) -> list[AccountRow]:
    names = [r[0] for r in conn.fetchall(Q.dashboard_account_names)]
    states: dict[str, list[str]] = defaultdict(list)
    for account, state in conn.fetchall(Q.dashboard_subscription_states):
        states[account].append(state)
    rows = []
    for name in names:
        subs = states.get(name, [])
        state = "no webhook" if not subs else ("active" if all(s == "active" for s in subs) else "disabled")
        rows.append(AccountRow(
            name, f"{len(subs)} subscription{'s' if len(subs) != 1 else ''}", state,
            last_received(conn, "calendly", name), ", ".join(sorted(set(subs))),
        ))
    return rows


def has_accounts(conn: Connection) -> bool:
    """Whether Calendly is in use here: the nav shows Bookings only then (the page says how to add one)."""
    return conn.scalar(Q.dashboard_has_accounts) is not None


def uuid_of(uri: str | None) -> str:
    """The booking id a link names (the last segment of the invitee URI, as the projection keys it)."""
    return (uri or "").rstrip("/").rsplit("/", 1)[-1]


def utm(tracking: Any) -> list[tuple[str, str]]:
    """The UTM fields a booking carries, as (name, value) pairs (tracking is payload JSON: any shape)."""
    if not isinstance(tracking, dict):
        return []
    return [(k[4:], str(tracking[k])) for k in UTM if isinstance(tracking.get(k), str | int) and tracking[k] != ""]


def answers(booking: dict[str, Any]) -> list[tuple[str, str]]:
    found = booking.get("questions_and_answers")
    rows = [qa for qa in found if isinstance(qa, dict)] if isinstance(found, list) else []
    rows.sort(key=lambda qa: qa["position"] if isinstance(qa.get("position"), int) else 0)
    return [(str(qa.get("question") or ""), str(qa.get("answer") or "")) for qa in rows]


def _decorate(booking: dict[str, Any]) -> dict[str, Any]:
    return {**booking, "utm": utm(booking.get("tracking")), "old_id": uuid_of(booking.get("old_invitee")),
            "new_id": uuid_of(booking.get("new_invitee"))}  # fmt: skip


def _bookings(
    conn: Connection, where: str, params: list[Any], offset: int
) -> tuple[list[dict[str, Any]], bool, bool]:
    rows, more = page_of_bookings(conn, where, params, PAGE, offset)
    return rows, more, has_accounts(conn)


async def bookings_page(request: Request) -> Response:
    ui = ui_of(request)
    q = request.query_params
    try:
        where, params = booking_filters(q)
        offset = int_param(q, "cursor", 0, 0, MAX_OFFSET) or 0
    except BadQuery as exc:
        return ui.render(request, "calendly/bookings.html", status=400, bookings=[], more=None,
                         problem=str(exc), q=q, accounts=True)
    rows, more, accounts = await read(request, _bookings, where, params, offset)
    return ui.render(request, "calendly/bookings.html", bookings=[_decorate(b) for b in rows],
                     more=next_page(q, offset + PAGE) if more else None, problem=None, q=q, accounts=accounts)


def _booking(
    conn: Connection, booking_id: str, account: str | None
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    found = booking_by_id(conn, booking_id, account)
    return found, reschedule_chain(conn, found) if found else []


async def booking_page(request: Request) -> Response:
    ui = ui_of(request)
    booking_id = request.path_params["id"]
    booking, chain = await read(request, _booking, booking_id, request.query_params.get("account") or None)
    if booking is None:
        return ui.render(request, "missing.html", status=404, what=f"booking {booking_id!r}")
    return ui.render(request, "calendly/booking.html", b=_decorate(booking), answers=answers(booking),
                     chain=[_decorate(c) if c["known"] else c for c in chain], uuid_of=uuid_of)


PAGES = [Page("/calendly/bookings", bookings_page), Page("/calendly/bookings/{id}", booking_page)]
NAV = [NavEntry("Bookings", "/calendly/bookings", 60, shown=has_accounts)]


def register(ui: Dashboard) -> None:
    ui.add_templates(TEMPLATES)
    ui.add_pages(PAGES, NAV)
    ui.add_accounts_section("Calendly accounts", account_rows, "Subscriptions",
                            "No Calendly account: hookline calendly account add.")
