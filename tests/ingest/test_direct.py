"""Events appended outside `serve` (CLI backfills) get their jobs and deliveries like received ones."""

from __future__ import annotations

import time

from hookline.assembly import append_direct
from hookline.forwarding.destinations import DestinationStore
from hookline.store.engine import Database
from hookline.types import IncomingEvent


def event(key: str, name: str = "call.synced") -> IncomingEvent:
    return IncomingEvent(
        "aircall", "acme", name, key, b'{"data":{"id":1}}', time.time(), resource="call", resource_id="1",
        origin="backfill",
    )  # fmt: skip


def test_direct_appends_enqueue_jobs_and_deliveries(db: Database) -> None:
    DestinationStore(db).add("crm", "https://crm.example.com/hook", ["call.*"])
    DestinationStore(db).add("sms-only", "https://sms.example.com/hook", ["message.*"])
    with db.connection() as conn:
        first = append_direct(conn, [event("a"), event("b"), event("a")])
        assert [r.duplicate for r in first] == [False, False, True]
        append_direct(conn, [event("c", "user.synced")])
        jobs = conn.scalar("SELECT count(*) FROM jobs")
        deliveries = conn.fetchall(
            "SELECT d.name FROM deliveries JOIN destinations d ON d.id = deliveries.destination_id"
        )
    assert jobs == 3  # one per new event, none for the duplicate
    assert [name for (name,) in deliveries] == ["crm", "crm"]  # call.* only, once per new event
