"""GET /api/bookings and GET /api/bookings/{id}: the bookings projection as JSON (admin token required)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from hookline.timeparse import iso
from hookline.web import openapi_parts as p
from hookline.web.params import MAX_OFFSET, BadQuery, int_param, time_param
from hookline.web.responses import JSON, error

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from hookline.runtime import Runtime

MAX_LIMIT = 500
_COLUMNS = (
    "id", "account", "invitee_uri", "scheduled_event_uri", "event_type_uri", "event_name", "start_time", "end_time",
    "status", "name", "email", "timezone", "no_show", "canceled_at", "cancel_reason", "canceler_type", "rescheduled",
    "old_invitee", "new_invitee", "questions_and_answers", "tracking", "created_at", "updated_at",
)  # fmt: skip
# The new side of a reschedule names the old one: read the link from there too (two workers may have
# projected both sides at once, neither seeing the other).
_NEW_SIDE = (
    "(SELECT min(n.invitee_uri) FROM bookings n WHERE n.account = bookings.account"
    " AND n.old_invitee = bookings.invitee_uri)"
)
_EXPRESSIONS = {
    "new_invitee": f"COALESCE(new_invitee, {_NEW_SIDE})",
    "rescheduled": f"(rescheduled OR {_NEW_SIDE} IS NOT NULL)",
}
_SELECT = f"SELECT {', '.join(_EXPRESSIONS.get(c, c) for c in _COLUMNS)} FROM bookings"


def _booking(row: tuple[Any, ...]) -> dict[str, Any]:
    out = dict(zip(_COLUMNS, row, strict=True))
    for flag in ("no_show", "rescheduled"):
        out[flag] = bool(out[flag])
    for doc in ("questions_and_answers", "tracking"):
        out[doc] = json.loads(out[doc])
    for ts in ("start_time", "end_time", "canceled_at", "created_at", "updated_at"):
        out[ts] = iso(out[ts])
    return out


def routes(runtime: Runtime) -> list[BaseRoute]:
    async def list_bookings(request: Request) -> JSON:
        q = request.query_params
        try:
            limit = int_param(q, "limit", 100, 1, MAX_LIMIT) or 100
            offset = int_param(q, "cursor", 0, 0, MAX_OFFSET) or 0
            since = time_param(q, "since")
            until = time_param(q, "until")
        except BadQuery as exc:
            return error(400, "invalid_query", str(exc))
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
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY start_time DESC, invitee_uri LIMIT ? OFFSET ?"

        def query() -> list[tuple[Any, ...]]:
            with runtime.db.connection() as conn:
                return conn.fetchall(sql, [*params, limit + 1, offset])

        rows = await run_in_threadpool(query)
        more = len(rows) > limit
        return JSON(
            {"bookings": [_booking(r) for r in rows[:limit]], "next_cursor": str(offset + limit) if more else None}
        )

    async def get_booking(request: Request) -> JSON:
        booking_id = request.path_params["id"]

        def query() -> tuple[Any, ...] | None:
            with runtime.db.connection() as conn:
                row = conn.fetchone(_SELECT + " WHERE id = ? ORDER BY account LIMIT 1", (booking_id,))
            return None if row is None else tuple(row)

        row = await run_in_threadpool(query)
        if row is None:
            return error(404, "not_found", f"no booking {booking_id}")
        return JSON(_booking(row))

    return [Route("/api/bookings", list_bookings), Route("/api/bookings/{id}", get_booking)]


_BOOKING = p.obj(
    {
        "id": {"type": "string", "description": "the invitee's uuid"},
        "account": p.STR,
        "invitee_uri": p.STR,
        **{name: p.nullable(p.STR) for name in ("scheduled_event_uri", "event_type_uri", "event_name")},
        "start_time": p.nullable(p.ISO),
        "end_time": p.nullable(p.ISO),
        "status": {**p.nullable(p.STR), "description": "active or canceled"},
        **{name: p.nullable(p.STR) for name in ("name", "email", "timezone")},
        "no_show": p.BOOL,
        "canceled_at": p.nullable(p.ISO),
        "cancel_reason": p.nullable(p.STR),
        "canceler_type": p.nullable(p.STR),
        "rescheduled": p.BOOL,
        "old_invitee": {**p.nullable(p.STR), "description": "the invitee URI this booking replaced"},
        "new_invitee": {**p.nullable(p.STR), "description": "the invitee URI that replaced this booking"},
        "questions_and_answers": p.ANY,
        "tracking": p.ANY,
        "created_at": p.nullable(p.ISO),
        "updated_at": p.nullable(p.ISO),
    }
)


def openapi_paths() -> p.Paths:
    return {
        "/api/bookings": {
            "get": p.operation(
                "Calendly bookings, latest start first",
                "calendly",
                p.page("bookings", _BOOKING),
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
                _BOOKING,
                (p.path("id", p.STR, "the invitee's uuid (the last segment of its URI)"),),
                errors=(404,),
            )
        },
    }
