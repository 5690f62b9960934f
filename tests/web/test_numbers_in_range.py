"""Numbers in range (issue 11, item 2), through a real server on both engines.

Envelope times (Aircall `timestamp`, monday.com `triggerTime`, Calendly `created_at`) that are not a
plausible unix time are refused at the edge with a 400 naming the field; times and counts inside a
resource (a call's `started_at` in milliseconds, `duration` 2**200, a booking's `start_time` "inf",
a column's `changedAt` 1e308) are stored as sent and treated as absent by the projections. Values
written by older versions (an infinite version, a year-58900 start) never fail a page or an answer,
and never keep a later valid event from updating the projection.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from hookline.providers.aircall.tokens import TokenStore
from hookline.providers.calendly import signature
from hookline.store.engine import Database
from tests.dashboard.bookings_items import CALENDLY_KEYS, MONDAY_SECRETS, add_accounts
from tests.dashboard.helpers import TOKEN, CallCenter, eventually, processed, signed_in
from tests.support import Server

HOSTILE_NUMBERS: list[Any] = [1e20, 2**200, -1e308, 1.7e12 * 1000]
HOSTILE_STRINGS = ["inf", "nan", "-inf", "Infinity", "1e20", "58900-01-01T00:00:00Z", "not a time"]


@pytest.fixture
def live(db: Database, start_server: Callable[..., Server]) -> Server:
    TokenStore(db).add(TOKEN, "acme")
    add_accounts(db)
    return start_server()


def monday(c: httpx.Client, event: dict[str, Any], account: str = "boards") -> httpx.Response:
    now = int(time.time())
    token = jwt.encode({"iat": now, "exp": now + 300}, MONDAY_SECRETS[account], algorithm="HS256")
    return c.post(f"/monday/webhook?account={account}", json={"event": event}, headers={"authorization": token})


def calendly(c: httpx.Client, body: dict[str, Any], account: str = "sales") -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = {signature.HEADER: signature.header_value(CALENDLY_KEYS[account], int(time.time()), raw)}
    return c.post("/calendly/webhook", content=raw, headers=headers)


def rename(item: int, name: str, at: str, uuid: str) -> dict[str, Any]:
    return {"app": "monday", "type": "update_name", "triggerTime": at, "triggerUuid": uuid, "boardId": 1234567890,
            "groupId": "topics", "pulseId": item, "value": {"name": name}, "previousValue": None}  # fmt: skip


def board_item(api: httpx.Client, item_id: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = api.get("/api/board_items", params={"item_id": item_id}).json()["items"]
    assert len(items) == 1, items
    return items[0]


def invitee(uri_id: str, start: Any, end: Any) -> dict[str, Any]:
    base = "https://api.calendly.com"
    return {
        "uri": f"{base}/scheduled_events/EV{uri_id}/invitees/{uri_id}", "status": "active", "name": "Ada",
        "email": "ada@example.com", "created_at": "2026-11-23T10:00:00.000000Z",
        "updated_at": "2026-11-23T10:00:00.000000Z", "event": f"{base}/scheduled_events/EV{uri_id}",
        "scheduled_event": {"uri": f"{base}/scheduled_events/EV{uri_id}", "name": "Intro", "start_time": start,
                            "end_time": end, "event_type": f"{base}/event_types/T1"},
    }  # fmt: skip


def all_pages_answer(server: Server, *, call_id: int, item_id: str, booking_id: str) -> None:
    """Every page and API answer that shows these values: 200, never a 500."""
    with server.admin() as api:
        events = api.get("/api/events", params={"limit": 500})
        assert events.status_code == 200, events.text
        for ev in events.json()["events"]:
            r = api.get(f"/api/events/{ev['id']}")
            assert r.status_code == 200, (ev["id"], r.text)
        for url in ("/api/calls", f"/api/calls/{call_id}", "/api/board_items", f"/api/board_items?item_id={item_id}",
                    "/api/bookings", f"/api/bookings/{booking_id}", "/api/agents", "/api/stats"):  # fmt: skip
            r = api.get(url)
            assert r.status_code == 200, (url, r.status_code, r.text)
    with signed_in(server) as page:
        for url in ("/events", "/aircall/calls", f"/aircall/calls/{call_id}", "/aircall/live", "/aircall/agents",
                    "/aircall/analytics", "/monday/items", f"/monday/items/{item_id}", "/calendly/bookings",
                    f"/calendly/bookings/{booking_id}", "/operations"):  # fmt: skip
            r = page.get(url)
            assert r.status_code == 200, (url, r.status_code, r.text[:500])
    assert "unhandled error" not in server.log() and "Traceback" not in server.log()


def test_envelope_times_out_of_range_are_refused_with_the_field_named(live: Server) -> None:
    calls = CallCenter()
    with live.client() as c:
        for value in [*HOSTILE_NUMBERS, 0.5e10 * 1e3]:
            body = calls.call_event("call.created", 9001)
            body["timestamp"] = value
            r = c.post("/aircall/webhook", json=body)
            assert r.status_code == 400, (value, r.text)
            assert r.json()["error"] == "invalid_envelope" and "timestamp" in r.json()["message"], r.text
        for value in HOSTILE_STRINGS:  # a string is not unix seconds at all
            body = calls.call_event("call.created", 9001)
            body["timestamp"] = value
            r = c.post("/aircall/webhook", json=body)
            assert r.status_code == 400 and "timestamp" in r.json()["message"], (value, r.text)
        for value in [*HOSTILE_NUMBERS, *HOSTILE_STRINGS]:
            r = monday(c, rename(77, "Hostile", value, f"u{value}"))
            assert r.status_code == 400, (value, r.text)
            assert r.json()["error"] == "invalid_envelope" and "triggerTime" in r.json()["message"], r.text
        for value in HOSTILE_STRINGS:
            r = calendly(c, {"event": "invitee.created", "created_at": value, "payload": invitee("I9", None, None)})
            assert r.status_code == 400, (value, r.text)
            assert r.json()["error"] == "invalid_envelope" and "created_at" in r.json()["message"], r.text
        # The edges of the range: 1970 and a millisecond triggerTime are times; 2**32 is not.
        ok = calls.call_event("call.created", 9002)
        ok["timestamp"] = 0
        assert c.post("/aircall/webhook", json=ok).status_code == 200
        ok["timestamp"] = 2**32
        assert c.post("/aircall/webhook", json=ok).status_code == 400
        assert monday(c, rename(78, "Millis", int(time.time() * 1000), "ms")).status_code == 200  # type: ignore[arg-type]
    with live.admin() as api:
        stored = api.get("/api/events", params={"limit": 500}).json()["events"]
        assert len(stored) == 2 and all(e["occurred_at"] is not None for e in stored)
    assert "Traceback" not in live.log()


def test_resource_values_out_of_range_are_stored_and_shown_as_absent(live: Server) -> None:
    calls = CallCenter()
    call = calls.call_event("call.ended", 9100, agent_id=1, status="done")
    call["data"].update(started_at=int(time.time() * 1000), answered_at=1e20, ended_at=-1e308, duration=2**200)
    item_event = {"app": "monday", "type": "update_column_value", "triggerTime": "2026-11-23T10:00:05.000Z",
                  "triggerUuid": "c1", "boardId": 1234567890, "groupId": "topics", "pulseId": 5001,
                  "pulseName": "Launch", "columnId": "date4", "columnType": "date", "columnTitle": "Due",
                  "value": {"date": "2026-12-01"}, "changedAt": 1e308}  # fmt: skip
    booking = {"event": "invitee.created", "created_at": "2026-11-23T10:00:00.000000Z",
               "payload": invitee("I1", "inf", "99999-01-01T00:00:00Z")}  # fmt: skip
    with live.client() as c:
        assert c.post("/aircall/webhook", json=call).status_code == 200
        assert monday(c, item_event).status_code == 200
        assert calendly(c, booking).status_code == 200
    processed(live)
    with live.admin() as api:
        stored = api.get("/api/calls/9100").json()
        assert stored["status"] == "done"
        assert (stored["started_at"], stored["answered_at"], stored["ended_at"], stored["duration"]) == (
            None, None, None, None)  # fmt: skip
        item = board_item(api, "5001")
        assert item["column_values"]["date4"]["changed_at"] == "2026-11-23T10:00:05Z"  # the trigger's time
        assert item["updated_at"] == "2026-11-23T10:00:05Z"
        b = api.get("/api/bookings/I1").json()
        assert b["start_time"] is None and b["end_time"] is None and b["name"] == "Ada"
        assert api.get("/api/jobs", params={"state": "parked"}).json()["jobs"] == []
    all_pages_answer(live, call_id=9100, item_id="5001", booking_id="I1")


def older_versions_values(db: Database) -> None:
    """What an older hookline stored before these checks: infinite and absurd times everywhere."""
    inf = "'Infinity'" if db.dialect == "postgresql" else "9e999"
    with db.connection() as conn, conn.transaction():
        conn.execute(f"UPDATE events SET occurred_at = {inf}")
        conn.execute(f"UPDATE aircall_calls SET v_ts = {inf}, started_at = 1.7e15, answered_at = {inf},"
                     " ended_at = -1e308, duration = 2147483647")  # fmt: skip
        conn.execute("UPDATE aircall_users SET v_ts = 1e20, last_seen = -1e308")
        nan = "'NaN'" if db.dialect == "postgresql" else inf  # SQLite keeps a NaN as NULL
        conn.execute(f"UPDATE bookings SET start_time = {inf}, end_time = 1e20, snapshot_at = {nan}")
        versions = '{"board_id":[Infinity,0,"x"],"group_id":[Infinity,0,"x"],"name":[Infinity,1,"x"]}'
        conn.execute(f"UPDATE board_items SET updated_at = {inf}, versions = ?", (versions,))


def test_values_stored_by_older_versions_neither_fail_pages_nor_freeze_projections(
    db: Database, live: Server
) -> None:
    calls = CallCenter()
    with live.client() as c:
        for body in (calls.user_event("user.connected", 1), calls.call_event("call.created", 9200, agent_id=1)):
            assert c.post("/aircall/webhook", json=body).status_code == 200
        assert monday(c, rename(5002, "Before", "2026-11-23T10:00:00.000Z", "r1")).status_code == 200
        booking = {"event": "invitee.created", "created_at": "2026-11-23T10:00:00.000000Z",
                   "payload": invitee("I2", "2026-12-01T09:00:00Z", "2026-12-01T09:30:00Z")}  # fmt: skip
        assert calendly(c, booking).status_code == 200
    processed(live)
    older_versions_values(db)
    all_pages_answer(live, call_id=9200, item_id="5002", booking_id="I2")

    # A later valid event still wins over the stored infinite version.
    with live.client() as c:
        assert c.post("/aircall/webhook", json=calls.call_event("call.answered", 9200, agent_id=1,
                                                                status="answered")).status_code == 200  # fmt: skip
        assert monday(c, rename(5002, "After", "2026-11-23T10:05:00.000Z", "r2")).status_code == 200
        canceled = invitee("I2", "2026-12-01T09:00:00Z", "2026-12-01T09:30:00Z")
        canceled.update(status="canceled", updated_at="2026-11-23T11:00:00.000000Z")
        body = {"event": "invitee.canceled", "created_at": "2026-11-23T11:00:00.000000Z", "payload": canceled}
        assert calendly(c, body).status_code == 200
    processed(live)
    with live.admin() as api:
        assert eventually(lambda: api.get("/api/calls/9200").json()["status"] == "answered")
        item = board_item(api, "5002")
        assert item["name"] == "After" and item["updated_at"] == "2026-11-23T10:05:00Z", item
        booking = api.get("/api/bookings/I2").json()
        assert booking["status"] == "canceled" and booking["start_time"] == "2026-12-01T09:00:00Z", booking
    all_pages_answer(live, call_id=9200, item_id="5002", booking_id="I2")


def test_monday_rename_after_an_inf_trigger_time(live: Server) -> None:
    """The reproduction: "inf" used to freeze the item (later renames ignored); now it is a 400 and the
    item follows the valid renames."""
    with live.client() as c:
        assert monday(c, rename(5003, "First", "2026-11-23T10:00:00.000Z", "a")).status_code == 200
        r = monday(c, rename(5003, "Frozen?", "inf", "b"))
        assert r.status_code == 400 and "triggerTime" in r.json()["message"]
        assert monday(c, rename(5003, "Second", "2026-11-23T10:01:00.000Z", "c")).status_code == 200
    processed(live)
    with live.admin() as api:
        assert board_item(api, "5003")["name"] == "Second"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e20", "-1e308", str(2**200), "58900-01-01"])
def test_since_and_until_out_of_range_are_400(live: Server, value: str) -> None:
    with live.admin() as api:
        for url, name in (("/api/events", "since"), ("/api/calls", "since"), ("/api/messages", "since"),
                          ("/api/bookings", "since"), ("/api/bookings", "until")):  # fmt: skip
            r = api.get(url, params={name: value})
            assert r.status_code == 400, (url, value, r.text)
            assert r.json()["error"] == "invalid_query" and name in r.json()["message"], r.text
        assert api.get("/api/events", params={"since": "2026-11-23T10:00:00Z"}).status_code == 200
    with signed_in(live) as page:
        r = page.get("/aircall/analytics", params={"from": "9999-12-25", "to": "9999-12-31"})
        assert r.status_code == 400, r.text[:300]
        r = page.get("/calendly/bookings", params={"since": value})
        assert r.status_code == 400 and "since" in r.text, r.text[:300]
    assert "Traceback" not in live.log()


def test_a_version_time_out_of_range_is_refused_before_any_sql() -> None:
    from hookline.pipeline.handlers import Unprocessable
    from hookline.providers.aircall.projections import TAGS

    for bad in (math.nan, math.inf, 1e20, -1.0):
        with pytest.raises(Unprocessable, match="version time"):
            TAGS.write(None, [("acme", 1, "vip", "red", None, "{}", bad, 0, "k")])  # type: ignore[arg-type]


def test_parse_time_refuses_non_finite_and_out_of_range() -> None:
    from hookline.timeparse import iso, optional_time, parse_time, plausible

    for bad in ("nan", "inf", "-inf", "1e20", "-1", "4294967296", "0001-01-01", "9999-12-31T23:59:59Z"):
        with pytest.raises(ValueError, match=r"out of range|not a time"):
            parse_time(bad)
    assert parse_time("2026-11-23T10:00:00Z") == 1795428000.0 and parse_time("0") == 0.0
    assert [plausible(v) for v in (math.nan, math.inf, 2**2000, True, "1", -0.5)] == [None] * 6
    assert optional_time("2026-11-23") == 1795392000.0 and optional_time(1e20) is None
    assert [iso(v) for v in (math.nan, math.inf, 1e20, -1e308)] == [None] * 4
