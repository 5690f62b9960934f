"""GET /api/board_items on a real server, after webhooks and `hookline monday board-items rebuild`."""

from __future__ import annotations

from hookline.providers.monday.accounts import AccountStore
from hookline.providers.monday.fake_api import FakeMonday
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from tests.support import Server, run_cli

BOX = SecretBox(None)  # the servers and CLIs of these tests run without HOOKLINE_SECRET_KEY


def test_board_items_api(db: Database, database_url: str, server: Server) -> None:
    AccountStore(db, BOX).add("acme", "acme-monday-token-0123456789", None, None)
    fake = FakeMonday()  # only to shape events
    t = 1_795_428_000.0
    events = [
        fake.event("create_pulse", at=t, pulseId=111, pulseName="Task 1", groupId="topics", columnValues={}),
        fake.event("update_column_value", at=t + 2, pulseId=111, columnId="status", columnType="color",
                   columnTitle="Status", value={"label": {"text": "Done"}}, groupId="topics"),
        fake.event("create_pulse", at=t + 1, pulseId=222, pulseName="Task 2", groupId="topics"),
        fake.event("archive_pulse", at=t + 3, pulseId=222),
    ]
    with server.client() as c:
        for event in events:
            assert c.post("/monday/webhook", json={"event": event}).status_code == 200
    rebuilt = run_cli("monday", "board-items", "rebuild", database_url=database_url)
    assert rebuilt.returncode == 0 and "4 monday.com events read, 2 items" in rebuilt.stdout
    with server.admin() as api:
        items = api.get("/api/board_items").json()["items"]
        assert [(i["item_id"], i["state"]) for i in items] == [("222", "archived"), ("111", "active")]
        (task,) = api.get("/api/board_items", params={"state": "active", "board_id": "1234567890"}).json()["items"]
        assert task["name"] == "Task 1" and task["group_id"] == "topics"
        assert task["column_values"]["status"]["value"] == {"label": {"text": "Done"}}
        assert task["column_values"]["status"]["title"] == "Status" and task["updated_at"].endswith("Z")
        page = api.get("/api/board_items", params={"limit": 1}).json()
        assert len(page["items"]) == 1 and page["next_cursor"] == "1"
        assert api.get("/api/board_items", params={"limit": "-1"}).status_code == 400
    with server.client() as anonymous:
        assert anonymous.get("/api/board_items").status_code == 401
