"""GET /api/board_items: the board_items projection as JSON (admin token required)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from hookline.store.queries import Query, compose, load_queries
from hookline.timeparse import iso
from hookline.web import openapi_parts as p
from hookline.web.params import MAX_OFFSET, BadQuery, int_param
from hookline.web.reads import read
from hookline.web.responses import JSON, error
from hookline.web.shapes import Iso, from_rows, page_shape

if TYPE_CHECKING:
    from hookline.runtime import Runtime
    from hookline.store.engine import Connection
    from hookline.store.queries import Query

Q = load_queries(__package__)
MAX_LIMIT = 500
_COLUMNS = ("account", "item_id", "board_id", "parent_item_id", "name", "group_id", "state", "column_values",
            "updated_at")  # fmt: skip

_FILTERS = ("account", "board_id", "group_id", "state", "item_id", "parent_item_id")


class Cell(msgspec.Struct):
    """One column's value of an item."""

    value: Any
    type: str | None
    title: str | None
    changed_at: Iso | None


class BoardItem(msgspec.Struct):
    """A monday.com board item."""

    account: str
    item_id: str
    board_id: str | None
    parent_item_id: str | None
    name: str | None
    group_id: str | None
    state: str
    column_values: Annotated[dict[str, Cell], msgspec.Meta(description="cells by column id")]
    updated_at: Iso | None


ItemsPage = page_shape("BoardItemsPage", "items", BoardItem)


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


def item_filters(q: Mapping[str, str]) -> tuple[str, list[Any]]:
    """The WHERE clause (or "") and its parameters for the filters in `q` (shared with the dashboard)."""
    where = [f"{column} = ?" for column in _FILTERS if q.get(column)]
    params: list[Any] = [q[column] for column in _FILTERS if q.get(column)]
    return (" WHERE " + " AND ".join(where) if where else ""), params


def _select(where: str, tail: Query) -> Query:
    """The item SELECT with a WHERE clause (or "") and a closing clause."""
    return compose(Q.board_items_api_select_fragment, where, tail)


def page_of_items(
    conn: Connection, where: str, params: list[Any], limit: int, offset: int
) -> tuple[list[dict[str, Any]], bool]:
    """One page of items, latest update first, and whether more follow."""
    rows = conn.fetchall(_select(where, Q.board_items_api_page_clause), [*params, limit + 1, offset])
    return [_item(tuple(r)) for r in rows[:limit]], len(rows) > limit


def item_by_id(conn: Connection, item_id: str, account: str | None = None) -> dict[str, Any] | None:
    """An item by its id (the first account's when several hold it and none is named)."""
    where, params = item_filters({"item_id": item_id, "account": account or ""})
    row = conn.fetchone(_select(where, Q.board_items_api_first_clause), params)
    return None if row is None else _item(tuple(row))


async def list_items(request: Request) -> JSON:
    q = request.query_params
    try:
        limit = int_param(q, "limit", 100, 1, MAX_LIMIT) or 100
        offset = int_param(q, "cursor", 0, 0, MAX_OFFSET) or 0
    except BadQuery as exc:
        return error(400, "invalid_query", str(exc))
    where, params = item_filters(q)
    items, more = await read(request, page_of_items, where, params, limit, offset)
    return JSON(ItemsPage(from_rows(BoardItem, items), str(offset + limit) if more else None))


ROUTES: list[BaseRoute] = [Route("/api/board_items", list_items)]


def routes(runtime: Runtime) -> list[BaseRoute]:
    return ROUTES


def openapi_paths() -> p.Paths:
    filters = tuple(p.query(name, p.STR, f"only items with this {name}") for name in _FILTERS)
    return {
        "/api/board_items": {
            "get": p.operation(
                "monday.com board items, latest update first",
                "monday",
                ItemsPage,
                (*filters, p.limit(MAX_LIMIT), p.OFFSET_CURSOR),
                errors=(400,),
            )
        }
    }
