"""The forwarding admin API against a real server: listings, filters, retry, and 4xx for bad input."""

from __future__ import annotations

from hookline.forwarding.destinations import DestinationStore
from hookline.store.engine import Database
from tests.support import Server


def seed(db: Database) -> list[int]:
    store = DestinationStore(db)
    _crm, secret = store.add("crm", "http://127.0.0.1:9/hook", events=["call.*"])
    store.add("erp", "http://127.0.0.1:9/erp")
    store.set_paused("crm", True)
    store.set_paused("erp", True)  # nothing is sent while we look
    ids = []
    with db.connection() as conn:
        for i, (dest, state) in enumerate([("crm", "dead"), ("crm", "succeeded"), ("erp", "retrying")]):
            conn.execute(
                "INSERT INTO events (provider, account, event, received_at, dedup_key, last_seen_at, known, body)"
                " VALUES ('aircall', 'acme', 'call.ended', 1, ?, 1, TRUE, ?)",
                (f"k{i}", b"{}"),
            )
            conn.execute(
                "INSERT INTO deliveries (destination_id, event_id, webhook_id, state, occurred_at,"
                " created_at, started_at, next_attempt_at)"
                " VALUES ((SELECT id FROM destinations WHERE name = ?), (SELECT max(id) FROM events),"
                " ?, ?, 1, 1, 1, 1)",
                (dest, f"msg_{i}", state),
            )
            ids.append(int(conn.scalar("SELECT max(id) FROM deliveries")))
    assert secret is not None
    return ids


def test_destinations_and_deliveries(db: Database, server: Server) -> None:
    dead, succeeded, retrying = seed(db)
    secret = DestinationStore(db).get("crm").secret
    with server.admin() as c:
        r = c.get("/api/destinations")
        assert r.status_code == 200 and secret not in r.text
        dests = {d["name"]: d for d in r.json()["destinations"]}
        assert dests["crm"]["state"] == "paused" and dests["crm"]["events"] == ["call.*"]
        assert dests["crm"]["deliveries"] == {"dead": 1} and dests["erp"]["deliveries"] == {"retrying": 1}

        failed = c.get("/api/deliveries", params={"state": "failed"}).json()
        assert [d["id"] for d in failed["deliveries"]] == [retrying, dead]
        crm = c.get("/api/deliveries", params={"destination": "crm"}).json()["deliveries"]
        assert {d["id"] for d in crm} == {dead, succeeded}
        page = c.get("/api/deliveries", params={"limit": 2}).json()
        assert len(page["deliveries"]) == 2 and page["next_cursor"] == str(succeeded)
        rest = c.get("/api/deliveries", params={"cursor": page["next_cursor"]}).json()
        assert [d["id"] for d in rest["deliveries"]] == [dead] and rest["next_cursor"] is None
        assert failed["deliveries"][0]["created_at_iso"] == "1970-01-01T00:00:01Z"

        ok = c.post(f"/api/deliveries/{dead}/retry")
        assert ok.status_code == 200 and ok.json()["state"] == "pending" and ok.json()["attempts"] == 0


def test_bad_input_gets_4xx_json(db: Database, server: Server) -> None:
    _, succeeded, _ = seed(db)
    with server.admin() as c:
        for params in ({"state": "exploded"}, {"limit": "0"}, {"limit": "x"}, {"cursor": "-1"}, {"limit": "501"}):
            r = c.get("/api/deliveries", params=params)
            assert r.status_code == 400 and r.json()["error"] == "invalid_query", params
        r = c.get("/api/deliveries", params={"destination": "nope"})
        assert r.status_code == 404 and r.json()["error"] == "not_found"
        assert c.post("/api/deliveries/abc/retry").json()["error"] == "invalid_id"
        assert c.post("/api/deliveries/99999999999999999999999/retry").status_code == 400
        assert c.post("/api/deliveries/999999/retry").status_code == 404
        assert c.post(f"/api/deliveries/{succeeded}/retry").status_code == 409
        assert c.get(f"/api/deliveries/{succeeded}/retry").status_code == 405
    with server.client() as c:
        assert c.get("/api/destinations").status_code == 401
        assert c.post(f"/api/deliveries/{succeeded}/retry").status_code == 401
