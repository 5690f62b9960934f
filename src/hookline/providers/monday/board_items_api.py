"""GET /api/board_items (filled in with the board_items projection)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from hookline.runtime import Runtime


def routes(runtime: Runtime) -> list[BaseRoute]:
    return []
