"""The Operations page and the event log say how much is stored and what retention will do."""

from __future__ import annotations

import re
from collections.abc import Callable

from hookline.store.engine import Database
from tests.dashboard.helpers import signed_in
from tests.retention.helpers import ago, old_events
from tests.support import Server


def test_operations_page_shows_storage_and_each_policy(db: Database, start_server: Callable[..., Server]) -> None:
    old_events(db, 4, ago(70))
    old_events(db, 2, ago(70), with_jobs=True)
    # No worker in serve, so no retention loop: the page shows what a pass would do.
    server = start_server(env={"HOOKLINE_RETENTION_EVENTS_DAYS": "30", "HOOKLINE_WORKER": "false"})
    with signed_in(server) as c:
        html = c.get("/operations").text
    assert "Storage and retention" in html and "Oldest event kept:" in html and "MiB" in html
    rows = dict(re.findall(r'<tr data-policy="([a-z_]+)">(.*?)</tr>', html, re.S))
    assert set(rows) >= {"events", "deliveries", "automation_runs", "timeline"}
    cells = re.findall(r"<td>(.*?)</td>", rows["events"])
    # policy, keeps, rows stored, size, oldest row, deletes before, to delete, oldest of them, still needed
    assert cells[1] == "30 days" and cells[2] == "6" and cells[3].endswith("MiB") and cells[4] != "-"
    assert cells[6:] == ["4", cells[7], "2"]  # 4 to delete, 2 still needed
    assert "forever" in rows["deliveries"] and "nothing is deleted" in rows["deliveries"]
    assert re.findall(r"<td>(.*?)</td>", rows["deliveries"])[2] == "0"


def test_event_log_says_how_much_is_stored_and_what_retention_will_delete(
    db: Database, start_server: Callable[..., Server]
) -> None:
    old_events(db, 4, ago(70))
    old_events(db, 3, ago(1))
    server = start_server(env={"HOOKLINE_RETENTION_EVENTS_DAYS": "30", "HOOKLINE_WORKER": "false"})
    with signed_in(server) as c:
        html = c.get("/events").text
    note = re.search(r'<p id="event-log-storage">(.*?)</p>', html, re.S)
    assert note is not None
    text = " ".join(note.group(1).split())
    assert text.startswith("About 7 events stored") and "MiB" in text
    assert "more than 30 days ago: 4 would go now" in text


def test_event_log_says_retention_keeps_everything(db: Database, start_server: Callable[..., Server]) -> None:
    old_events(db, 2, ago(70))
    server = start_server(env={"HOOKLINE_WORKER": "false"})
    with signed_in(server) as c:
        html = c.get("/events").text
    assert "About 2 events stored" in html and "Retention keeps every event" in html
