"""Forwarding in the admin API: GET /api/destinations, GET /api/deliveries, POST /api/deliveries/{id}/retry."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.routing import Route

from hookline.forwarding import deliveries
from hookline.forwarding.destinations import DestinationError, DestinationStore
from hookline.runtime import Runtime
from hookline.store.engine import Database
from hookline.store.events import AccountScope
from hookline.timeparse import iso
from hookline.web import openapi_parts as p
from hookline.web.paging import MAX_LIMIT, id_page, page_params
from hookline.web.params import BadQuery, id_param
from hookline.web.reads import account_of, in_thread, runtime_of
from hookline.web.responses import JSON, error
from hookline.web.shapes import Count, Iso, Unix, from_row, from_rows, page_shape

_TIMES = ("created_at", "next_attempt_at", "last_attempt_at", "delivered_at")


def _enum(*values: str) -> Any:
    return msgspec.Meta(extra_json_schema={"enum": list(values)})


class Destination(msgspec.Struct):
    """A forwarding destination with its state and delivery counts (the secret masked)."""

    id: int
    name: str
    url: Annotated[str, msgspec.Meta(extra_json_schema={"format": "uri"})]
    events: Annotated[list[str], msgspec.Meta(description="event patterns, e.g. call.* or aircall:call.*")]
    account: str | None
    secret: Annotated[str, msgspec.Meta(description="masked")]
    ordered: bool
    paused: bool
    disabled_reason: str | None
    disabled_at: Unix | None
    created_at: Unix
    created_at_iso: Iso
    disabled_at_iso: Iso | None
    state: Annotated[str, _enum("active", "paused", "disabled", "breaker-open", "breaker-half-open")]
    consecutive_failures: Count
    breaker_open_until: Unix | None
    deliveries: Annotated[dict[str, Count], msgspec.Meta(description="unfinished and dead deliveries by state")]


class Destinations(msgspec.Struct):
    destinations: list[Destination]


class Delivery(msgspec.Struct):
    """One event for one destination, and how sending it went."""

    id: int
    destination: str
    event_id: int
    provider: str
    account: str
    event: str
    webhook_id: str
    origin: Annotated[str, _enum("live", "replay")]
    state: Annotated[str, _enum(*deliveries.STATES)]
    attempts: Count
    last_status: int | None
    last_error: str | None
    created_at: Unix | None
    next_attempt_at: Unix | None
    last_attempt_at: Unix | None
    delivered_at: Unix | None
    created_at_iso: Iso | None
    next_attempt_at_iso: Iso | None
    last_attempt_at_iso: Iso | None
    delivered_at_iso: Iso | None


DeliveriesPage = page_shape("DeliveriesPage", "deliveries", Delivery)


def _delivery(row: dict[str, Any]) -> dict[str, Any]:
    for key in _TIMES:
        row[f"{key}_iso"] = iso(row[key])
    return row


def _destinations(db: Database) -> Destinations:
    counts = deliveries.counts_by_state(db)
    found = [{**d.public(), "deliveries": counts.get(d.name, {})} for d in DestinationStore(db).list()]
    return Destinations(from_rows(Destination, found))


async def list_destinations(request: Request) -> JSON:
    return JSON(await in_thread(_destinations, runtime_of(request).db))


def _deliveries(
    db: Database,
    state: str | None,
    destination: str | None,
    limit: int,
    cursor: int | None,
    account: AccountScope | None,
) -> list[dict[str, Any]] | None:
    if destination is not None:
        try:
            DestinationStore(db).get(destination)
        except DestinationError:
            return None
    states = deliveries.FILTERS[state] if state else ()
    return deliveries.list_deliveries(db, states, destination, limit, cursor, account)


async def list_deliveries(request: Request) -> JSON:
    q = request.query_params
    state = q.get("state") or None
    if state is not None and state not in deliveries.FILTERS:
        return error(400, "invalid_query", f"state must be one of: {', '.join(deliveries.FILTERS)}")
    try:
        limit, cursor = page_params(q)
    except BadQuery as exc:
        return error(400, "invalid_query", str(exc))
    destination = q.get("destination") or None
    db = runtime_of(request).db
    rows = await in_thread(_deliveries, db, state, destination, limit + 1, cursor, account_of(request))
    if rows is None:
        return error(404, "not_found", f"no destination named {destination!r}")
    page, next_cursor = id_page(rows, limit)
    return JSON(DeliveriesPage(from_rows(Delivery, map(_delivery, page)), next_cursor))


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
    return JSON(from_row(Delivery, _delivery(row)))


ROUTES = [
    Route("/api/destinations", list_destinations),
    Route("/api/deliveries", list_deliveries),
    Route("/api/deliveries/{id}/retry", retry_delivery, methods=["POST"]),
]


def routes(runtime: Runtime) -> list[Route]:
    return ROUTES


def openapi_paths() -> p.Paths:
    return {
        "/api/destinations": {
            "get": p.operation(
                "Forwarding destinations with their state and delivery counts (secrets masked)",
                "forwarding",
                Destinations,
            )
        },
        "/api/deliveries": {
            "get": p.operation(
                "Deliveries, newest first",
                "forwarding",
                DeliveriesPage,
                (
                    p.query(
                        "state",
                        {"type": "string", "enum": list(deliveries.FILTERS)},
                        "a state; failed = retrying or dead, open = pending or retrying",
                    ),
                    p.query("destination", p.STR, "only this destination's (404 when there is none by that name)"),
                    p.ACCOUNT,
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
                Delivery,
                (p.path("id", p.ID, "the delivery's id"),),
                errors=(400, 404, 409),
                description="409 when the delivery succeeded already.",
            )
        },
    }
