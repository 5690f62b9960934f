"""GET /api/openapi.json: the OpenAPI 3.1 document of every /api route.

The core's API modules and each provider (Provider.openapi_paths) describe their own routes; this
module only puts the parts together, once per process.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

import hookline
from hookline.provider import Provider
from hookline.web import openapi_parts as p
from hookline.web.responses import JSON

PATH = "/api/openapi.json"


def _self() -> p.Paths:
    return {
        PATH: {
            "get": p.operation(
                "This document",
                "meta",
                {"type": "object", "required": ["openapi", "paths"]},
                description="OpenAPI 3.1; every route under /api is in it (a test enforces that).",
            )
        }
    }


def operation_id(method: str, route: str) -> str:
    """'get', '/api/calls/{id}' -> 'get_calls_id': a function name for client generators."""
    words = re.findall(r"\w+", route.removeprefix("/api"))
    return "_".join([method, *words])


def build(core: Iterable[p.Paths], providers: Sequence[Provider]) -> dict[str, Any]:
    """The document; a path described twice is a bug (two modules claim one route), so it raises."""
    paths: p.Paths = {}
    for part in [_self(), *core, *(provider.openapi_paths() for provider in providers)]:
        twice = paths.keys() & part.keys()
        if twice:
            raise ValueError(f"OpenAPI paths described twice: {sorted(twice)}")
        paths.update(part)
    for route, item in paths.items():
        for method, op in item.items():
            op.setdefault("operationId", operation_id(method, route))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hookline admin API",
            "version": hookline.__version__,
            "description": "Everything under /api needs `Authorization: Bearer <admin token>`. "
            'Errors answer `{"error": code, "message": text}`.',
        },
        "security": [{"bearer": []}],
        "tags": sorted(
            ({"name": tag} for tag in {t for item in paths.values() for op in item.values() for t in op["tags"]}),
            key=lambda t: t["name"],
        ),
        "paths": dict(sorted(paths.items())),
        "components": p.components(),
    }


def routes(core: Iterable[p.Paths], providers: Sequence[Provider]) -> list[Route]:
    document = build(core, providers)

    async def openapi_json(request: Request) -> JSON:
        return JSON(document)

    return [Route(PATH, openapi_json)]
