"""GET /api/events and GET /api/events/{id}: the event log as JSON."""

from __future__ import annotations

import base64
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from hookline.runtime import Runtime
from hookline.store import events as event_log
from hookline.timeparse import iso
from hookline.web import openapi_parts as p
from hookline.web.params import MAX_ID, BadQuery, id_param, int_param, time_param
from hookline.web.reads import read
from hookline.web.responses import JSON, error

MAX_LIMIT = 500


def _with_times(meta: dict[str, Any]) -> dict[str, Any]:
    meta["occurred_at_iso"] = iso(meta["occurred_at"])
    meta["received_at_iso"] = iso(meta["received_at"])
    return meta


async def list_events(request: Request) -> JSON:
    q = request.query_params
    try:
        limit = int_param(q, "limit", 100, 1, MAX_LIMIT) or 100
        cursor = int_param(q, "cursor", None, 1, MAX_ID)
        since = time_param(q, "since")
    except BadQuery as exc:
        return error(400, "invalid_query", str(exc))
    flt = event_log.EventFilter(
        provider=q.get("provider") or None,
        event=q.get("event") or None,
        account=q.get("account") or None,
        since=since,
        before_id=cursor,
    )
    rows = await read(request, event_log.list_events, flt, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = str(rows[-1]["id"]) if more and rows else None
    return JSON({"events": [_with_times(r) for r in rows], "next_cursor": next_cursor})


async def get_event(request: Request) -> JSON:
    try:
        event_id = id_param(request.path_params["id"], "event")
    except BadQuery as exc:
        return error(400, "invalid_id", str(exc))
    found = await read(request, event_log.get_event, event_id)
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


ROUTES = [Route("/api/events", list_events), Route("/api/events/{id}", get_event)]


def routes(runtime: Runtime) -> list[Route]:
    return ROUTES


_EVENT = {
    "id": p.INT,
    "provider": p.STR,
    "account": p.STR,
    "event": p.STR,
    "resource": p.nullable(p.STR),
    "resource_id": p.nullable(p.STR),
    "occurred_at": p.nullable(p.UNIX),
    "received_at": p.UNIX,
    "dedup_key": p.STR,
    "duplicate_count": {"type": "integer", "minimum": 0},
    "last_seen_at": p.UNIX,
    "known": {"type": "boolean", "description": "the provider's catalog knows this event type"},
    "origin": {"type": "string", "description": "webhook, or backfill for events read from the provider's API"},
    "headers": {"type": "object", "additionalProperties": p.STR, "description": "selected request headers"},
    "occurred_at_iso": p.nullable(p.ISO),
    "received_at_iso": p.ISO,
}


def openapi_paths() -> p.Paths:
    detail = {
        **_EVENT,
        "body": p.nullable({"type": "string", "description": "the raw body as text (null when not UTF-8)"}),
        "body_base64": {"type": "string", "contentEncoding": "base64"},
    }
    return {
        "/api/events": {
            "get": p.operation(
                "The event log, newest first",
                "events",
                p.page("events", p.obj(_EVENT)),
                (
                    p.query("provider", p.STR, "only this provider's events"),
                    p.query("event", p.STR, "only this event type, e.g. call.ended"),
                    p.ACCOUNT,
                    p.time_query("since", "received at or after"),
                    p.limit(MAX_LIMIT),
                    p.ID_CURSOR,
                ),
                errors=(400,),
            )
        },
        "/api/events/{id}": {
            "get": p.operation(
                "One event with its raw body",
                "events",
                p.obj(detail),
                (p.path("id", p.ID, "the event's id"),),
                errors=(400, 404),
            )
        },
    }
