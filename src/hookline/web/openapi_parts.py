"""Building blocks of the OpenAPI document, shared by the core's API modules and the providers' own.

Each module that serves /api routes describes them next to its `routes()` (an `openapi_paths()`
function, or the Provider hook of the same name) with these helpers, so parameters and the error
responses are spelled the same everywhere. The answers' shapes are not here: they are the Structs of
web/shapes.py and of each API module. Schemas are JSON Schema 2020-12 (OpenAPI 3.1).
"""

from __future__ import annotations

from typing import Any

import msgspec

from hookline.timeparse import RANGE_TEXT
from hookline.web.params import MAX_ID, MAX_OFFSET

Schema = dict[str, Any]
Paths = dict[str, dict[str, Any]]

STR: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
ID: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
# A 200 answer is a msgspec Struct (web/shapes.py): web/openapi.py turns it into a component and a $ref.
Ok = type[msgspec.Struct] | Schema


def query(name: str, schema: Schema, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def path(name: str, schema: Schema, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def limit(most: int = 500, default: int = 100) -> dict[str, Any]:
    return query("limit", {"type": "integer", "minimum": 1, "maximum": most, "default": default}, "page size")


ID_CURSOR = query("cursor", ID, "`next_cursor` of the previous page (ids below it)")
OFFSET_CURSOR = query(
    "cursor", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}, "`next_cursor` of the previous page (an offset)"
)
ACCOUNT = query("account", STR, "only this account's rows")


def time_query(name: str, description: str) -> dict[str, Any]:
    return query(
        name,
        {"type": "string", "examples": ["2026-11-23T10:00:00Z", "2026-11-23", "1763892000"]},
        f"{description}: ISO 8601 date-time or date (UTC unless an offset is given), or unix seconds;"
        f" within {RANGE_TEXT} (anything else, e.g. nan or 1e20, is a 400)",
    )


_ERRORS = {400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 409: "Conflict", 429: "TooManyAttempts"}


def operation(
    summary: str,
    tag: str,
    ok: Ok,
    parameters: tuple[dict[str, Any], ...] = (),
    errors: tuple[int, ...] = (),
    description: str | None = None,
) -> dict[str, Any]:
    """One operation answering 200 with `ok` (a Struct; a schema only for what is not a shape), or the
    error shape with one of `errors` (401 and 429 always)."""
    responses: dict[str, Any] = {"200": {"description": "OK", "content": {"application/json": {"schema": ok}}}}
    for status in sorted({*errors, 401, 429}):
        responses[str(status)] = {"$ref": f"#/components/responses/{_ERRORS[status]}"}
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "parameters": list(parameters), "responses": responses}
    if description:
        op["description"] = description
    return op


def components() -> dict[str, Any]:
    """The shared part: the Bearer scheme and the error responses (the Error shape is web/shapes.py's)."""
    descriptions = {
        400: "bad request",
        401: "admin token missing or wrong",
        404: "not found",
        409: "conflict",
        429: "too many wrong admin tokens from this address in the last minute (see Retry-After)",
    }
    return {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "the admin token (HOOKLINE_ADMIN_TOKEN)"}
        },
        "responses": {
            name: {
                "description": descriptions[status],
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
            for status, name in _ERRORS.items()
        },
    }
