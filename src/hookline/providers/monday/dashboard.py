"""monday.com on the dashboard: the Board items page (the `board_items` projection, filtered, 50 a
page), an item's page with its column values, and the operations rows (per account, its board
webhooks and the last event received). Queries and serialisation are board_items_api's, the same as
GET /api/board_items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hookline.providers.monday.board_items_api import item_by_id, item_filters, page_of_items
from hookline.store.engine import Connection
from hookline.store.events import last_received
from hookline.store.queries import load_queries
from hookline.web.dashboard.ui import AccountRow, Dashboard, NavEntry, Page, next_page, ui_of
from hookline.web.params import MAX_OFFSET, BadQuery, int_param
from hookline.web.reads import read

Q = load_queries(__package__)
TEMPLATES = Path(__file__).parent / "templates"
PAGE = 50
STATES = ("active", "archived", "deleted")


def account_rows(conn: Connection) -> list[AccountRow]:
    names = [r[0] for r in conn.fetchall(Q.dashboard_account_names)]
    hooks = {a: (int(n), int(b)) for a, n, b in conn.fetchall(Q.dashboard_webhooks_per_account)}
    rows = []
    for name in names:
        count, boards = hooks.get(name, (0, 0))
        rows.append(AccountRow(
            name, f"{count} webhook{'s' if count != 1 else ''} on {boards} board{'s' if boards != 1 else ''}",
            "active" if count else "no webhook", last_received(conn, "monday", name),
        ))
    return rows


def has_accounts(conn: Connection) -> bool:
    """Whether monday.com is in use here: the nav shows Board items only then (the page says how to add one)."""
    return conn.scalar(Q.dashboard_has_accounts) is not None


def shown(value: Any) -> str:
    """A column value as text: monday's JSON as it came (a string as itself), compact."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def columns(item: dict[str, Any]) -> list[dict[str, Any]]:
    cells = item.get("column_values") or {}
    return [{"id": cid, **cell, "text": shown(cell.get("value"))} for cid, cell in sorted(cells.items())]


def _items(conn: Connection, where: str, params: list[Any], offset: int) -> tuple[list[dict[str, Any]], bool, bool]:
    rows, more = page_of_items(conn, where, params, PAGE, offset)
    return rows, more, has_accounts(conn)


async def items_page(request: Request) -> Response:
    ui = ui_of(request)
    q = request.query_params
    try:
        offset = int_param(q, "cursor", 0, 0, MAX_OFFSET) or 0
    except BadQuery as exc:
        return ui.render(request, "monday/items.html", status=400, items=[], more=None, problem=str(exc), q=q,
                         accounts=True, states=STATES)
    # The form's fields are named for people; the API's filters for columns.
    where, params = item_filters({"account": q.get("account", ""), "board_id": q.get("board", ""),
                                  "group_id": q.get("group", ""), "state": q.get("state", "")})
    rows, more, accounts = await read(request, _items, where, params, offset)
    return ui.render(request, "monday/items.html", items=rows, more=next_page(q, offset + PAGE) if more else None,
                     problem=None, q=q, accounts=accounts, states=STATES)


async def item_page(request: Request) -> Response:
    ui = ui_of(request)
    item_id = request.path_params["id"]
    item = await read(request, item_by_id, item_id, request.query_params.get("account") or None)
    if item is None:
        return ui.render(request, "missing.html", status=404, what=f"board item {item_id!r}")
    return ui.render(request, "monday/item.html", item=item, columns=columns(item))


PAGES = [Page("/monday/items", items_page), Page("/monday/items/{id}", item_page)]
NAV = [NavEntry("Board items", "/monday/items", 70, shown=has_accounts)]


def register(ui: Dashboard) -> None:
    ui.add_templates(TEMPLATES)
    ui.add_pages(PAGES, NAV)
    ui.add_accounts_section("monday.com accounts", account_rows, "Webhooks",
                            "No monday.com account: hookline monday account add.")
