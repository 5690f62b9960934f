"""The Operations page says how much is stored and what retention will do."""

from __future__ import annotations

import re
from collections.abc import Callable

from hookline.store.engine import Database
from tests.dashboard.helpers import signed_in
from tests.retention.helpers import ago, old_events
from tests.support import Server


def test_operations_page_shows_storage_and_each_policy(db: Database, start_server: Callable[..., Server]) -> None:
    old_events(db, 4, ago(40))
    old_events(db, 2, ago(40), with_jobs=True)
    # No worker in serve, so no retention loop: the page shows what a pass would do.
    server = start_server(env={"HOOKLINE_RETENTION_EVENTS_DAYS": "30", "HOOKLINE_WORKER": "false"})
    with signed_in(server) as c:
        html = c.get("/operations").text
    assert "Storage and retention" in html and "Oldest event kept:" in html and "MiB" in html
    rows = dict(re.findall(r'<tr data-policy="([a-z_]+)">(.*?)</tr>', html, re.S))
    assert set(rows) >= {"events", "deliveries", "automation_runs", "timeline"}
    cells = re.findall(r"<td>(.*?)</td>", rows["events"])
    assert cells[1] == "30 days" and cells[3:] == ["4", cells[4], "2"]  # 4 to delete, 2 still needed
    assert "forever" in rows["deliveries"] and "nothing is deleted" in rows["deliveries"]
