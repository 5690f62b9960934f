"""GET /api/bookings and GET /api/bookings/{id}: the bookings projection as JSON (admin token required)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from hookline.store.queries import Query, compose, load_queries
from hookline.timeparse import iso
from hookline.web import openapi_parts as p
from hookline.web.params import MAX_OFFSET, BadQuery, int_param, time_param
from hookline.web.reads import read
from hookline.web.responses import JSON, error
from hookline.web.shapes import Iso, as_dict, from_row, from_rows, page_shape

if TYPE_CHECKING:
    from hookline.runtime import Runtime
    from hookline.store.engine import Connection
    from hookline.store.queries import Query

MAX_LIMIT = 500
_COLUMNS = (
    "id", "account", "invitee_uri", "scheduled_event_uri", "event_type_uri", "event_name", "start_time", "end_time",
    "status", "name", "email", "timezone", "no_show", "canceled_at", "cancel_reason", "canceler_type", "rescheduled",
    "old_invitee", "new_invitee", "questions_and_answers", "tracking", "created_at", "updated_at",
)  # fmt: skip
Q = load_queries(__package__)


class Booking(msgspec.Struct):
    """A Calendly booking (an invitee of a scheduled event)."""

    id: Annotated[str, msgspec.Meta(description="the invitee's uuid")]
    account: str
    invitee_uri: str
    scheduled_event_uri: str | None
    event_type_uri: str | None
    event_name: str | None
    start_time: Iso | None
    end_time: Iso | None
    status: Annotated[str | None, msgspec.Meta(description="active or canceled")]
    name: str | None
    email: str | None
    timezone: str | None
    no_show: bool
    canceled_at: Iso | None
    cancel_reason: str | None
    canceler_type: str | None
    rescheduled: bool
    old_invitee: Annotated[str | None, msgspec.Meta(description="the invitee URI this booking replaced")]
    new_invitee: Annotated[str | None, msgspec.Meta(description="the invitee URI that replaced this booking")]
    questions_and_answers: Any
    tracking: Any
    created_at: Iso | None
    updated_at: Iso | None


BookingsPage = page_shape("BookingsPage", "bookings", Booking)


def _select(*parts: Query | str) -> Query:
    """The booking SELECT with its clauses."""
    return compose(Q.bookings_api_select_fragment, *parts)


def _booking(row: tuple[Any, ...]) -> dict[str, Any]:
    out = as_dict(Booking, dict(zip(_COLUMNS, row, strict=True)))
    for ts in ("start_time", "end_time", "canceled_at", "created_at", "updated_at"):
        out[ts] = iso(out[ts])
    return out


def booking_filters(q: Mapping[str, str]) -> tuple[str, list[Any]]:
    """The WHERE clause (or "") and its parameters for account, status, email and since/until on the
    start time; BadQuery names a parameter that cannot be used. Shared by the API and the dashboard."""
    since = time_param(q, "since")
    until = time_param(q, "until")
    where: list[str] = []
    params: list[Any] = []
    for column in ("account", "status", "email"):
        if q.get(column):
            where.append(f"{column} = ?")
            params.append(q[column])
    if since is not None:
        where.append("start_time >= ?")
        params.append(since)
    if until is not None:
        where.append("start_time < ?")
        params.append(until)
    return (" WHERE " + " AND ".join(where) if where else ""), params


def page_of_bookings(
    conn: Connection, where: str, params: list[Any], limit: int, offset: int
) -> tuple[list[dict[str, Any]], bool]:
    """One page of bookings, latest start first, and whether more follow."""
    rows = conn.fetchall(_select(where, Q.bookings_api_page_clause), [*params, limit + 1, offset])
    return [_booking(tuple(r)) for r in rows[:limit]], len(rows) > limit


def booking_by_id(conn: Connection, booking_id: str, account: str | None = None) -> dict[str, Any] | None:
    """A booking by its uuid (the first account's when several hold it and none is named)."""
    if account:
        row = conn.fetchone(_select(Q.bookings_api_by_id_in_account_clause), (booking_id, account))
    else:
        row = conn.fetchone(_select(Q.bookings_api_by_id_clause), (booking_id,))
    return None if row is None else _booking(tuple(row))


MAX_CHAIN = 50  # links come from payloads: a cycle or a forged long chain stops here


def reschedule_chain(conn: Connection, booking: dict[str, Any]) -> list[dict[str, Any]]:
    """The bookings a reschedule chain links, oldest first, this one included (links read both ways
    through the same expressions as the API, within the booking's account)."""
    account = booking["account"]

    def by_uri(uri: str) -> dict[str, Any] | None:
        row = conn.fetchone(_select(Q.bookings_api_by_uri_clause), (account, uri))
        return None if row is None else _booking(tuple(row))

    seen = {booking["invitee_uri"]}

    def walk(link: str) -> list[dict[str, Any]]:
        """Follow `link` (old_invitee or new_invitee) from this booking; stops on a loop or the bound."""
        found: list[dict[str, Any]] = []
        step = booking
        while step.get(link) and step[link] not in seen and len(seen) < MAX_CHAIN:
            seen.add(step[link])
            nxt = by_uri(step[link])
            if nxt is None:
                found.append({"invitee_uri": step[link], "known": False})
                break
            found.append({**nxt, "known": True})
            step = nxt
        return found

    before = walk("old_invitee")
    after = walk("new_invitee")
    return [*reversed(before), {**booking, "known": True, "current": True}, *after]


async def list_bookings(request: Request) -> JSON:
    q = request.query_params
    try:
        limit = int_param(q, "limit", 100, 1, MAX_LIMIT) or 100
        offset = int_param(q, "cursor", 0, 0, MAX_OFFSET) or 0
        where, params = booking_filters(q)
    except BadQuery as exc:
        return error(400, "invalid_query", str(exc))
    bookings, more = await read(request, page_of_bookings, where, params, limit, offset)
    return JSON(BookingsPage(from_rows(Booking, bookings), str(offset + limit) if more else None))


async def get_booking(request: Request) -> JSON:
    booking_id = request.path_params["id"]
    booking = await read(request, booking_by_id, booking_id)
    if booking is None:
        return error(404, "not_found", f"no booking {booking_id}")
    return JSON(from_row(Booking, booking))


ROUTES: list[BaseRoute] = [Route("/api/bookings", list_bookings), Route("/api/bookings/{id}", get_booking)]


def routes(runtime: Runtime) -> list[BaseRoute]:
    return ROUTES


def openapi_paths() -> p.Paths:
    return {
        "/api/bookings": {
            "get": p.operation(
                "Calendly bookings, latest start first",
                "calendly",
                BookingsPage,
                (
                    p.ACCOUNT,
                    p.query("status", p.STR, "active or canceled"),
                    p.query("email", p.STR, "the invitee's e-mail"),
                    p.time_query("since", "starting at or after"),
                    p.time_query("until", "starting before"),
                    p.limit(MAX_LIMIT),
                    p.OFFSET_CURSOR,
                ),
                errors=(400,),
            )
        },
        "/api/bookings/{id}": {
            "get": p.operation(
                "One booking",
                "calendly",
                Booking,
                (p.path("id", p.STR, "the invitee's uuid (the last segment of its URI)"),),
                errors=(404,),
            )
        },
    }
