"""GET /api/bookings and GET /api/bookings/{id}: the bookings projection as JSON (admin token required)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from hookline.timeparse import iso, parse_time
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


def _int(raw: str | None, name: str, default: int, hi: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= hi:
        raise ValueError(f"{name} must be an integer between 0 and {hi}")
    return int(raw)


def routes(runtime: Runtime) -> list[BaseRoute]:
    async def list_bookings(request: Request) -> JSON:
        q = request.query_params
        try:
            limit = max(_int(q.get("limit"), "limit", 100, MAX_LIMIT), 1)
            offset = _int(q.get("cursor"), "cursor", 0, 10**9)
            since = parse_time(q["since"]) if q.get("since") else None
            until = parse_time(q["until"]) if q.get("until") else None
        except ValueError as exc:
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
