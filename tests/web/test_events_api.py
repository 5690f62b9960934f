"""The admin API and health endpoints against a real server."""

from __future__ import annotations

import base64

from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.ingest.test_aircall_webhook import TOKEN, envelope
from tests.support import Server


def seed(db: Database, server: Server, n: int = 7) -> list[int]:
    TokenStore(db).add(TOKEN, "acme")
    with server.client() as c:
        return [
            c.post(
                "/aircall/webhook", json=envelope(call_id=i, event="call.created" if i % 2 else "call.ended")
            ).json()["id"]
            for i in range(n)
        ]


def test_api_requires_the_admin_token(db: Database, server: Server) -> None:
    with server.client() as c:
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "Basic abc"}):
            r = c.get("/api/events", headers=headers)
            assert r.status_code == 401 and r.json()["error"] == "unauthorized"
        assert c.get("/api/events/1").status_code == 401
        assert c.get("/healthz").status_code == 200  # health stays open


def test_list_newest_first_with_filters_and_cursor(db: Database, server: Server) -> None:
    ids = seed(db, server)
    with server.admin() as c:
        everything = c.get("/api/events").json()
        assert [e["id"] for e in everything["events"]] == sorted(ids, reverse=True)
        assert everything["next_cursor"] is None
        ended = c.get("/api/events", params={"event": "call.ended"}).json()["events"]
        assert {e["event"] for e in ended} == {"call.ended"} and len(ended) == 4
        assert c.get("/api/events", params={"account": "nobody"}).json()["events"] == []
        assert (
            len(c.get("/api/events", params={"provider": "aircall", "since": "2020-01-01T00:00:00Z"}).json()["events"])
            == 7
        )
        assert c.get("/api/events", params={"since": "4102444800"}).json()["events"] == []

        seen, cursor = [], None
        while True:
            page = c.get("/api/events", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
            seen += [e["id"] for e in page["events"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == sorted(ids, reverse=True)


def test_bad_queries_are_400(db: Database, server: Server) -> None:
    with server.admin() as c:
        for params in (
            {"limit": "x"},
            {"limit": "0"},
            {"limit": "100000"},
            {"cursor": "abc"},
            {"since": "yesterday"},
        ):
            r = c.get("/api/events", params=params)
            assert r.status_code == 400 and r.json()["error"] == "invalid_query", params
        assert c.get("/api/events/abc").status_code == 400
        assert c.get("/api/events/999999").status_code == 404
        assert c.get("/api/nothing-here").status_code == 404


def test_get_event_has_metadata_and_raw_body(db: Database, server: Server) -> None:
    ids = seed(db, server, 1)
    with server.client() as c:
        c.post("/aircall/webhook", json=envelope(call_id=0, event="call.ended"))  # a duplicate
    with server.admin() as c:
        e = c.get(f"/api/events/{ids[0]}").json()
    assert e["id"] == ids[0] and e["account"] == "acme" and e["duplicate_count"] == 1
    assert e["event"] == "call.ended" and e["known"] is True and e["resource_id"] == "0"
    assert e["occurred_at"] == 1_763_900_000 and e["occurred_at_iso"] == "2025-11-23T12:13:20Z"
    assert base64.b64decode(e["body_base64"]).decode() == e["body"]
    assert '"event":"call.ended"' in e["body"].replace(" ", "")
    assert e["headers"]["remote-addr"] == "127.0.0.1"


def test_readyz_and_metrics(db: Database, server: Server) -> None:
    with server.client() as c:
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["pending_migrations"] == 0
        metrics = c.get("/metrics")
        assert metrics.status_code == 200 and "hookline_ack_latency_seconds" in metrics.text
