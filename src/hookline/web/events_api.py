"""GET /api/events and GET /api/events/{id}: the event log as JSON."""

from __future__ import annotations

import base64
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from hookline.runtime import Runtime
from hookline.store import events as event_log
from hookline.timeparse import iso, parse_time
from hookline.web.responses import JSON, error

MAX_LIMIT = 500


class BadQuery(ValueError):
    pass


def _int(params: Any, name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadQuery(f"{name} must be an integer") from exc
    if not lo <= value <= hi:
        raise BadQuery(f"{name} must be between {lo} and {hi}")
    return value


def _with_times(meta: dict[str, Any]) -> dict[str, Any]:
    meta["occurred_at_iso"] = iso(meta["occurred_at"])
    meta["received_at_iso"] = iso(meta["received_at"])
    return meta


def routes(runtime: Runtime) -> list[Route]:
    async def list_events(request: Request) -> JSON:
        q = request.query_params
        try:
            limit = _int(q, "limit", 100, 1, MAX_LIMIT) or 100
            cursor = _int(q, "cursor", None, 1, 2**62)
            since = parse_time(q["since"]) if q.get("since") else None
        except (BadQuery, ValueError) as exc:
            return error(400, "invalid_query", str(exc))
        flt = event_log.EventFilter(
            provider=q.get("provider") or None,
            event=q.get("event") or None,
            account=q.get("account") or None,
            since=since,
            before_id=cursor,
        )

        def query() -> list[dict[str, Any]]:
            with runtime.db.connection() as conn:
                return event_log.list_events(conn, flt, limit + 1)

        rows = await run_in_threadpool(query)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = str(rows[-1]["id"]) if more and rows else None
        return JSON({"events": [_with_times(r) for r in rows], "next_cursor": next_cursor})

    async def get_event(request: Request) -> JSON:
        try:
            event_id = int(request.path_params["id"])
        except ValueError:
            return error(400, "invalid_id", "event id must be an integer")

        def query() -> tuple[dict[str, Any], bytes] | None:
            with runtime.db.connection() as conn:
                return event_log.get_event(conn, event_id)

        found = await run_in_threadpool(query)
        if found is None:
            return error(404, "not_found", f"no event {event_id}")
        meta, body = found
        meta = _with_times(meta)
        try:
            meta["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            meta["body"] = None
        meta["body_base64"] = base64.b64encode(body).decode()
        return JSON(meta)

    return [Route("/api/events", list_events), Route("/api/events/{id}", get_event)]
