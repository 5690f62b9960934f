"""GET /api/openapi.json: the OpenAPI 3.1 document of every /api route.

The core's API modules and each provider (Provider.openapi_paths) describe their own routes; this
module only puts the parts together, once per process. The parts name their answers by Struct
(web/shapes.py); here those become `components/schemas` (msgspec's JSON Schema of each, and of
the Structs they hold) and `$ref`s, so the document describes exactly what is encoded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.routing import Route

import hookline
from hookline.provider import Provider
from hookline.web import openapi_parts as p
from hookline.web.responses import JSON
from hookline.web.shapes import Error

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


def copy_paths(part: p.Paths) -> p.Paths:
    """The paths with their operations, responses and contents copied (schemas shared, not copied)."""

    def response(r: dict[str, Any]) -> dict[str, Any]:
        if "content" not in r:
            return dict(r)
        return {**r, "content": {kind: dict(c) for kind, c in r["content"].items()}}

    return {
        route: {
            method: {**op, "responses": {code: response(r) for code, r in op["responses"].items()}}
            for method, op in item.items()
        }
        for route, item in part.items()
    }


def operation_id(method: str, route: str) -> str:
    """'get', '/api/calls/{id}' -> 'get_calls_id': a function name for client generators."""
    words = re.findall(r"\w+", route.removeprefix("/api"))
    return "_".join([method, *words])


REF = "#/components/schemas/{name}"


def _answers(paths: p.Paths) -> Iterator[dict[str, Any]]:
    """Each response's JSON content object (holding `schema`)."""
    for item in paths.values():
        for op in item.values():
            for response in op["responses"].values():
                content = response.get("content", {}).get("application/json")
                if content is not None:
                    yield content


def shapes(paths: p.Paths) -> dict[str, Any]:
    """Replace the Structs of `paths` by $refs; returns the component schemas (Error included)."""
    contents = [c for c in _answers(paths) if isinstance(c["schema"], type)]
    types = list(dict.fromkeys([Error, *(c["schema"] for c in contents)]))
    refs, components = msgspec.json.schema_components(types, ref_template=REF)
    by_type = dict(zip(types, refs, strict=True))
    for content in contents:
        content["schema"] = by_type[content["schema"]]
    return dict(sorted(components.items()))


def build(core: Iterable[p.Paths], providers: Sequence[Provider]) -> dict[str, Any]:
    """The document; a path described twice is a bug (two modules claim one route), so it raises."""
    paths: p.Paths = {}
    # Copies down to the content objects: the parts may be module constants, resolved in place here.
    parts = [_self(), *core, *(provider.openapi_paths() for provider in providers)]
    for part in [copy_paths(part) for part in parts]:
        twice = paths.keys() & part.keys()
        if twice:
            raise ValueError(f"OpenAPI paths described twice: {sorted(twice)}")
        paths.update(part)
    for route, item in paths.items():
        for method, op in item.items():
            op.setdefault("operationId", operation_id(method, route))
    schemas = shapes(paths)
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
        "components": {**p.components(), "schemas": schemas},
    }


def routes(core: Iterable[p.Paths], providers: Sequence[Provider]) -> list[Route]:
    document = build(core, providers)

    async def openapi_json(request: Request) -> JSON:
        return JSON(document)

    return [Route(PATH, openapi_json)]
