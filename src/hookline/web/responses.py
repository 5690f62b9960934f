"""JSON answers for the admin API: one shape for errors everywhere."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

from hookline.web.shapes import Error


class JSON(Response):
    """JSON via msgspec: the Structs of web/shapes.py and the API modules (what the OpenAPI document
    describes), or plain dicts and lists."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return msgspec.json.encode(content)


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSON:
    return JSON(Error(code, message), status_code=status, headers=headers)
