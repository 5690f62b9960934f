"""GET /api/events and GET /api/events/{id}: the event log as JSON."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.routing import Route

from hookline.runtime import Runtime
from hookline.store import events as event_log
from hookline.timeparse import iso
from hookline.web import openapi_parts as p
from hookline.web.paging import MAX_LIMIT, id_page, page_params
from hookline.web.params import BadQuery, id_param, time_param
from hookline.web.reads import read
from hookline.web.responses import JSON, error
from hookline.web.shapes import Count, Iso, Unix, from_row, from_rows, page_shape


class Event(msgspec.Struct):
    """One event of the log, without its body."""

    id: int
    provider: str
    account: str
    event: str
    resource: str | None
    resource_id: str | None
    occurred_at: Unix | None
    received_at: Unix
    dedup_key: str
    duplicate_count: Count
    last_seen_at: Unix
    known: Annotated[bool, msgspec.Meta(description="the provider's catalog knows this event type")]
    origin: Annotated[str, msgspec.Meta(description="webhook, or backfill for events read from the provider's API")]
    headers: Annotated[dict[str, str], msgspec.Meta(description="selected request headers")]
    occurred_at_iso: Iso | None
    received_at_iso: Iso


class EventDetail(Event):
    """One event with its raw body."""

    body: Annotated[str | None, msgspec.Meta(description="the raw body as text (null when not UTF-8)")]
    body_base64: Annotated[str, msgspec.Meta(extra_json_schema={"contentEncoding": "base64"})]


EventsPage = page_shape("EventsPage", "events", Event)


def _with_times(meta: dict[str, Any]) -> dict[str, Any]:
    meta["occurred_at_iso"] = iso(meta["occurred_at"])
    meta["received_at_iso"] = iso(meta["received_at"])
    return meta


async def list_events(request: Request) -> JSON:
    q = request.query_params
    try:
        limit, cursor = page_params(q)
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
    page, next_cursor = id_page(rows, limit)
    return JSON(EventsPage(from_rows(Event, map(_with_times, page)), next_cursor))


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
    return JSON(from_row(EventDetail, meta))


ROUTES = [Route("/api/events", list_events), Route("/api/events/{id}", get_event)]


def routes(runtime: Runtime) -> list[Route]:
    return ROUTES


def openapi_paths() -> p.Paths:
    return {
        "/api/events": {
            "get": p.operation(
                "The event log, newest first",
                "events",
                EventsPage,
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
                EventDetail,
                (p.path("id", p.ID, "the event's id"),),
                errors=(400, 404),
            )
        },
    }
