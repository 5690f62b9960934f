"""JSON answers for the admin API: one shape for errors everywhere."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response


class JSON(Response):
    """JSON via msgspec (handles bytes-free dicts, floats, nested lists fast)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return msgspec.json.encode(content)


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSON:
    return JSON({"error": code, "message": message}, status_code=status, headers=headers)
