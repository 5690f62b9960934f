"""monday.com's move_subitem (issue 11, item 8): a moved subitem gets its new parent, in any order.

The payload shape is monday's as captured from a real board (a public reference of webhook bodies,
"Monday Webhook Events: Full JSON and How to Identify"): no pulseId, the moved subitem in `subitem`,
its old and new parent items in `sourcePulseId`/`destPulseId` and their board in `sourceBoardId`/
`destBoardId` (the subitem itself stays on its subitems board).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from hookline.providers.monday import catalog
from hookline.providers.monday.board_items import apply
from hookline.store.engine import Database
from tests.dashboard.bookings_items import MONDAY_SECRETS, add_accounts
from tests.dashboard.helpers import processed
from tests.support import Server

SUBITEM, OLD_PARENT, NEW_PARENT = 8401360357, 7786784003, 7786784079
SUBITEMS_BOARD, PARENT_BOARD = 8400809115, 7786783342

CREATE = {
    "app": "monday", "type": "create_pulse", "triggerTime": "2025-02-04T19:20:55.528Z", "subscriptionId": 466733181,
    "isRetry": False, "userId": 67214742, "originalTriggerUuid": None, "boardId": SUBITEMS_BOARD,
    "pulseId": SUBITEM, "pulseName": "Test", "groupId": "topics", "groupName": "Subitems", "groupColor": "#579bfc",
    "isTopGroup": True, "columnValues": {}, "triggerUuid": "22c02a9f4fb60361cbc505bb71e5b3ed",
    "parentItemId": str(OLD_PARENT), "parentItemBoardId": str(PARENT_BOARD), "itemId": SUBITEM,
}  # fmt: skip
MOVE = {
    "app": "monday", "type": "move_subitem", "triggerTime": "2025-02-05T17:32:36.884Z", "subscriptionId": 466701546,
    "isRetry": False, "userId": 67214742, "sourcePulseId": OLD_PARENT, "destPulseId": NEW_PARENT,
    "sourceBoardId": PARENT_BOARD, "destBoardId": PARENT_BOARD, "subitem": SUBITEM,
    "triggerUuid": "c88ea0f27724e1102fe91a8f6c409a6a",
}  # fmt: skip
RENAME = {  # a later rename of the subitem: it names no parent, so the move stands
    "app": "monday", "type": "update_name", "triggerTime": "2025-02-05T17:40:00.000Z", "isRetry": False,
    "boardId": SUBITEMS_BOARD, "groupId": "topics", "pulseId": SUBITEM, "value": {"name": "Renamed"},
    "previousValue": {"name": "Test"}, "triggerUuid": "53a4d574eefe643ca8f16b4b5bf6bca2",
}  # fmt: skip


def test_move_subitem_is_in_the_catalog() -> None:
    assert catalog.is_known("move_subitem") and catalog.resource_of("move_subitem") == "item"
    assert catalog.SUBSCRIPTIONS["move_subitem"] == "move_subitem"


def row(event: dict[str, Any]) -> dict[str, Any]:
    return {"account": "acme", "event": event["type"], "body": json.dumps({"event": event}).encode()}


def test_any_order_gives_the_new_parent(db: Database) -> None:
    for order in itertools.permutations([CREATE, MOVE, RENAME, MOVE]):
        with db.connection() as conn, conn.transaction():
            conn.execute("DELETE FROM board_items")
            for event in order:
                apply(conn, row(event))
            found = conn.fetchall("SELECT item_id, board_id, parent_item_id, name, state FROM board_items")
        assert [tuple(r) for r in found] == [(str(SUBITEM), str(SUBITEMS_BOARD), str(NEW_PARENT), "Renamed",
                                              "active")], order  # fmt: skip


@pytest.fixture
def live(db: Database, start_server: Callable[..., Server]) -> Server:
    add_accounts(db)
    return start_server()


def test_a_moved_subitem_gets_its_new_parent_through_the_server(live: Server) -> None:
    now = int(time.time())
    token = jwt.encode({"iat": now, "exp": now + 300}, MONDAY_SECRETS["boards"], algorithm="HS256")
    with live.client() as c:
        for event in (MOVE, CREATE):  # the move arrives first: order must not matter
            r = c.post("/monday/webhook?account=boards", json={"event": event}, headers={"authorization": token})
            assert r.status_code == 200, r.text
    processed(live)
    with live.admin() as api:
        stored = {e["event"]: e for e in api.get("/api/events", params={"provider": "monday"}).json()["events"]}
        assert stored["move_subitem"]["known"] is True
        assert stored["move_subitem"]["resource"] == "item" and stored["move_subitem"]["resource_id"] == str(SUBITEM)
        items = api.get("/api/board_items", params={"item_id": str(SUBITEM)}).json()["items"]
        assert len(items) == 1
        assert items[0]["parent_item_id"] == str(NEW_PARENT) and items[0]["board_id"] == str(SUBITEMS_BOARD)
        assert api.get("/api/board_items", params={"parent_item_id": str(NEW_PARENT)}).json()["items"] == items
        assert api.get("/api/board_items", params={"item_id": str(NEW_PARENT)}).json()["items"] == []
