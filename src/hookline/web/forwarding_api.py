"""Forwarding in the admin API: GET /api/destinations, GET /api/deliveries, POST /api/deliveries/{id}/retry."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from hookline.forwarding import deliveries
from hookline.forwarding.destinations import DestinationError, DestinationStore
from hookline.runtime import Runtime
from hookline.timeparse import iso
from hookline.web.responses import JSON, error

MAX_LIMIT = 500
_TIMES = ("created_at", "next_attempt_at", "last_attempt_at", "delivered_at")


def _delivery(row: dict[str, Any]) -> dict[str, Any]:
    for key in _TIMES:
        row[f"{key}_iso"] = iso(row[key])
    return row


def _positive_int(raw: str | None, name: str, default: int | None, hi: int) -> int | None:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= hi:
        raise ValueError(f"{name} must be an integer between 1 and {hi}")
    return int(raw)


def routes(runtime: Runtime) -> list[Route]:
    store = DestinationStore(runtime.db)

    async def list_destinations(request: Request) -> JSON:
        def query() -> list[dict[str, Any]]:
            counts = deliveries.counts_by_state(runtime.db)
            return [{**d.public(), "deliveries": counts.get(d.name, {})} for d in store.list()]

        return JSON({"destinations": await run_in_threadpool(query)})

    async def list_deliveries(request: Request) -> JSON:
        q = request.query_params
        state = q.get("state") or None
        if state is not None and state not in deliveries.FILTERS:
            return error(400, "invalid_query", f"state must be one of: {', '.join(deliveries.FILTERS)}")
        try:
            limit = _positive_int(q.get("limit"), "limit", 100, MAX_LIMIT) or 100
            cursor = _positive_int(q.get("cursor"), "cursor", None, 2**62)
        except ValueError as exc:
            return error(400, "invalid_query", str(exc))
        destination = q.get("destination") or None

        def query() -> list[dict[str, Any]] | None:
            if destination is not None:
                try:
                    store.get(destination)
                except DestinationError:
                    return None
            return deliveries.list_deliveries(
                runtime.db, deliveries.FILTERS[state] if state else (), destination, limit + 1, cursor
            )

        rows = await run_in_threadpool(query)
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
        raw = request.path_params["id"]
        if not raw.isdigit() or int(raw) > 2**62:
            return error(400, "invalid_id", "delivery id must be a positive integer")

        def do() -> dict[str, Any]:
            return deliveries.retry(runtime.db, int(raw))

        try:
            row = await run_in_threadpool(do)
        except LookupError as exc:
            return error(404, "not_found", str(exc))
        except deliveries.RetryRefused as exc:
            return error(409, "conflict", str(exc))
        return JSON(_delivery(row))

    return [
        Route("/api/destinations", list_destinations),
        Route("/api/deliveries", list_deliveries),
        Route("/api/deliveries/{id}/retry", retry_delivery, methods=["POST"]),
    ]
