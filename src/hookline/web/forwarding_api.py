"""Forwarding in the admin API: GET /api/destinations, GET /api/deliveries, POST /api/deliveries/{id}/retry."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from hookline.forwarding import deliveries
from hookline.forwarding.destinations import DestinationError, DestinationStore
from hookline.runtime import Runtime
from hookline.store.engine import Database
from hookline.timeparse import iso
from hookline.web import openapi_parts as p
from hookline.web.params import MAX_ID, BadQuery, id_param, int_param
from hookline.web.reads import in_thread, runtime_of
from hookline.web.responses import JSON, error

MAX_LIMIT = 500
_TIMES = ("created_at", "next_attempt_at", "last_attempt_at", "delivered_at")


def _delivery(row: dict[str, Any]) -> dict[str, Any]:
    for key in _TIMES:
        row[f"{key}_iso"] = iso(row[key])
    return row


def _destinations(db: Database) -> list[dict[str, Any]]:
    counts = deliveries.counts_by_state(db)
    return [{**d.public(), "deliveries": counts.get(d.name, {})} for d in DestinationStore(db).list()]


async def list_destinations(request: Request) -> JSON:
    return JSON({"destinations": await in_thread(_destinations, runtime_of(request).db)})


def _deliveries(
    db: Database, state: str | None, destination: str | None, limit: int, cursor: int | None
) -> list[dict[str, Any]] | None:
    if destination is not None:
        try:
            DestinationStore(db).get(destination)
        except DestinationError:
            return None
    return deliveries.list_deliveries(db, deliveries.FILTERS[state] if state else (), destination, limit, cursor)


async def list_deliveries(request: Request) -> JSON:
    q = request.query_params
    state = q.get("state") or None
    if state is not None and state not in deliveries.FILTERS:
        return error(400, "invalid_query", f"state must be one of: {', '.join(deliveries.FILTERS)}")
    try:
        limit = int_param(q, "limit", 100, 1, MAX_LIMIT) or 100
        cursor = int_param(q, "cursor", None, 1, MAX_ID)
    except BadQuery as exc:
        return error(400, "invalid_query", str(exc))
    destination = q.get("destination") or None
    rows = await in_thread(_deliveries, runtime_of(request).db, state, destination, limit + 1, cursor)
    if rows is None:
        return error(404, "not_found", f"no destination named {destination!r}")
    more = len(rows) > limit
    rows = rows[:limit]
    return JSON(
        {
            "deliveries": [_delivery(r) for r in rows],
            "next_cursor": str(rows[-1]["id"]) if more and rows else None,
        }
    )


async def retry_delivery(request: Request) -> JSON:
    try:
        delivery_id = id_param(request.path_params["id"], "delivery")
    except BadQuery as exc:
        return error(400, "invalid_id", str(exc))
    try:
        row = await in_thread(deliveries.retry, runtime_of(request).db, delivery_id)
    except LookupError as exc:
        return error(404, "not_found", str(exc))
    except deliveries.RetryRefused as exc:
        return error(409, "conflict", str(exc))
    return JSON(_delivery(row))


ROUTES = [
    Route("/api/destinations", list_destinations),
    Route("/api/deliveries", list_deliveries),
    Route("/api/deliveries/{id}/retry", retry_delivery, methods=["POST"]),
]


def routes(runtime: Runtime) -> list[Route]:
    return ROUTES


_DESTINATION = p.obj(
    {
        "id": p.INT,
        "name": p.STR,
        "url": {"type": "string", "format": "uri"},
        "events": {**p.array(p.STR), "description": "event patterns, e.g. call.* or aircall:call.*"},
        "account": p.nullable(p.STR),
        "secret": {"type": "string", "description": "masked"},
        "ordered": p.BOOL,
        "paused": p.BOOL,
        "disabled_reason": p.nullable(p.STR),
        "disabled_at": p.nullable(p.UNIX),
        "created_at": p.UNIX,
        "created_at_iso": p.ISO,
        "disabled_at_iso": p.nullable(p.ISO),
        "state": {"type": "string", "enum": ["active", "paused", "disabled", "breaker-open", "breaker-half-open"]},
        "consecutive_failures": {"type": "integer", "minimum": 0},
        "breaker_open_until": p.nullable(p.UNIX),
        "deliveries": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 0},
            "description": "unfinished and dead deliveries by state",
        },
    }
)
_DELIVERY = p.obj(
    {
        "id": p.INT,
        "destination": p.STR,
        "event_id": p.INT,
        "provider": p.STR,
        "account": p.STR,
        "event": p.STR,
        "webhook_id": p.STR,
        "origin": {"type": "string", "enum": ["live", "replay"]},
        "state": {"type": "string", "enum": list(deliveries.STATES)},
        "attempts": {"type": "integer", "minimum": 0},
        "last_status": p.nullable(p.INT),
        "last_error": p.nullable(p.STR),
        **{key: p.nullable(p.UNIX) for key in _TIMES},
        **{f"{key}_iso": p.nullable(p.ISO) for key in _TIMES},
    }
)


def openapi_paths() -> p.Paths:
    return {
        "/api/destinations": {
            "get": p.operation(
                "Forwarding destinations with their state and delivery counts (secrets masked)",
                "forwarding",
                p.obj({"destinations": p.array(_DESTINATION)}),
            )
        },
        "/api/deliveries": {
            "get": p.operation(
                "Deliveries, newest first",
                "forwarding",
                p.page("deliveries", _DELIVERY),
                (
                    p.query(
                        "state",
                        {"type": "string", "enum": list(deliveries.FILTERS)},
                        "a state; failed = retrying or dead, open = pending or retrying",
                    ),
                    p.query("destination", p.STR, "only this destination's (404 when there is none by that name)"),
                    p.limit(MAX_LIMIT),
                    p.ID_CURSOR,
                ),
                errors=(400, 404),
            )
        },
        "/api/deliveries/{id}/retry": {
            "post": p.operation(
                "Send a failed delivery again now",
                "forwarding",
                _DELIVERY,
                (p.path("id", p.ID, "the delivery's id"),),
                errors=(400, 404, 409),
                description="409 when the delivery succeeded already.",
            )
        },
    }
