"""GET /api/board_items on a real server: webhooks in, projected by serve's worker, then `hookline rebuild`."""

from __future__ import annotations

import time

from hookline.providers.monday.accounts import AccountStore
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from hookline.testing.monday.fake_api import FakeMonday
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
    with server.admin() as api:
        deadline = time.monotonic() + 30  # the worker projects after the answer
        while _pending(db) or len(api.get("/api/board_items").json()["items"]) < 2:
            assert time.monotonic() < deadline, "items not projected"
            time.sleep(0.1)
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
    rebuilt = run_cli("rebuild", "--yes", database_url=database_url)
    assert rebuilt.returncode == 0, rebuilt.stderr
    with server.admin() as api:
        assert api.get("/api/board_items").json()["items"] == items


def _pending(db: Database) -> int:
    with db.connection() as conn:
        return int(conn.scalar("SELECT count(*) FROM jobs"))
