"""GET /api/board_items: the board_items projection as JSON (admin token required)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from hookline.timeparse import iso
from hookline.web.responses import JSON, error

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from hookline.runtime import Runtime

MAX_LIMIT = 500
_COLUMNS = ("account", "item_id", "board_id", "parent_item_id", "name", "group_id", "state", "column_values",
            "updated_at")  # fmt: skip


def _item(row: tuple[Any, ...]) -> dict[str, Any]:
    out = dict(zip(_COLUMNS, row, strict=True))
    cells = json.loads(out["column_values"])
    out["column_values"] = {
        column: {"value": cell.get("value"), "type": cell.get("type"), "title": cell.get("title"),
                 "changed_at": iso(cell["version"][0])}
        for column, cell in cells.items()
    }  # fmt: skip
    out["updated_at"] = iso(out["updated_at"])
    return out


def _int(raw: str | None, name: str, default: int, hi: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= hi:
        raise ValueError(f"{name} must be an integer between 0 and {hi}")
    return int(raw)


def routes(runtime: Runtime) -> list[BaseRoute]:
    async def list_items(request: Request) -> JSON:
        q = request.query_params
        try:
            limit = max(_int(q.get("limit"), "limit", 100, MAX_LIMIT), 1)
            offset = _int(q.get("cursor"), "cursor", 0, 10**9)
        except ValueError as exc:
            return error(400, "invalid_query", str(exc))
        where: list[str] = []
        params: list[Any] = []
        for column in ("account", "board_id", "group_id", "state", "item_id", "parent_item_id"):
            if q.get(column):
                where.append(f"{column} = ?")
                params.append(q[column])
        sql = f"SELECT {', '.join(_COLUMNS)} FROM board_items" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY updated_at DESC, account, item_id LIMIT ? OFFSET ?"

        def query() -> list[tuple[Any, ...]]:
            with runtime.db.connection() as conn:
                return conn.fetchall(sql, [*params, limit + 1, offset])

        rows = await run_in_threadpool(query)
        more = len(rows) > limit
        return JSON({"items": [_item(r) for r in rows[:limit]], "next_cursor": str(offset + limit) if more else None})

    return [Route("/api/board_items", list_items)]
