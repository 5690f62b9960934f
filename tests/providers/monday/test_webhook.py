"""POST /monday/webhook against a real server, on both engines: handshake, account, JWT, dedup."""

from __future__ import annotations

import json
import time

import jwt

from hookline.providers.monday.accounts import AccountStore
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from tests.providers.monday.conftest import SECRET
from tests.support import Server, stored_events

BOX = SecretBox(None)  # the servers and CLIs of these tests run without HOOKLINE_SECRET_KEY


def event(kind: str = "create_pulse", pulse: int = 111, uuid: str = "a1b2c3", **fields: object) -> dict:
    return {
        "event": {
            "app": "monday",
            "type": kind,
            "triggerTime": "2026-11-23T10:00:00.123Z",
            "subscriptionId": 5001,
            "userId": 7,
            "boardId": 1234567890,
            "pulseId": pulse,
            "triggerUuid": uuid,
            **fields,
        }
    }


def token(secret: str = SECRET, exp: float | None = None) -> str:
    now = int(time.time())
    claims = {"accountId": 1, "userId": 7, "aud": "https://hooks.example/monday/webhook", "iat": now,
              "exp": int(exp if exp is not None else now + 300)}
    return jwt.encode(claims, secret, algorithm="HS256")


# The events columns these tests compare.
STORED = "account, event, duplicate_count, known, resource, resource_id, occurred_at"


def test_challenge_is_echoed_and_nothing_is_stored(db: Database, server: Server) -> None:
    with server.client() as c:
        r = c.post("/monday/webhook", json={"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmd"})
        other = c.post("/monday/webhook?account=nobody", json={"challenge": "x"})
    assert r.status_code == 200 and r.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmd"}
    assert other.json() == {"challenge": "x"}
    assert stored_events(db, STORED) == []


def test_events_of_an_account_without_secret_and_the_only_account_fallback(db: Database, server: Server) -> None:
    AccountStore(db, BOX).add("acme", "acme-monday-token-0123456789", None, None)
    with server.client() as c:
        a = c.post("/monday/webhook?account=acme", json=event())
        b = c.post("/monday/webhook", json=event(uuid="other"))  # no ?account=: the only account
        again = c.post("/monday/webhook", json=event())
        update = c.post("/monday/webhook", json=event("create_update", updateId=99, uuid="u1"))
        unknown = c.post("/monday/webhook", json=event("teleport_pulse", uuid="t1"))
    assert [r.status_code for r in (a, b, again, update, unknown)] == [200] * 5
    assert again.json() == {"id": a.json()["id"], "duplicate": True}
    rows = stored_events(db, STORED)
    assert [(r[0], r[1], r[2], bool(r[3]), r[4], r[5]) for r in rows] == [
        ("acme", "create_pulse", 1, True, "item", "111"),
        ("acme", "create_pulse", 0, True, "item", "111"),
        ("acme", "create_update", 0, True, "update", "99"),
        ("acme", "teleport_pulse", 0, False, None, None),
    ]
    assert abs(rows[0][6] - 1_795_428_000.123) < 0.01  # triggerTime


def test_jwt_required_when_the_account_has_a_signing_secret(db: Database, server: Server) -> None:
    store = AccountStore(db, BOX)
    store.add("acme", "acme-monday-token-0123456789", SECRET, None)
    store.add("globex", "globex-monday-token-0123456789", None, None)
    url = "/monday/webhook?account=acme"
    cases = [
        ({}, 401, "missing_jwt"),
        ({"authorization": token("some-other-secret-0123456789-0123456789")}, 401, "invalid_jwt"),
        ({"authorization": "not.a.jwt"}, 401, "invalid_jwt"),
        ({"authorization": token(exp=time.time() - 3600)}, 401, "expired_jwt"),
        ({"authorization": jwt.encode({"accountId": 1}, SECRET, algorithm="HS512")}, 401, "invalid_jwt"),
    ]
    with server.client() as c:
        for headers, status, reason in cases:
            r = c.post(url, json=event(), headers=headers)
            assert (r.status_code, r.json()["error"]) == (status, reason), headers
        assert c.post(url, json=event(), headers={"authorization": token()}).status_code == 200
        assert c.post(url, json=event(uuid="b"), headers={"authorization": f"Bearer {token()}"}).status_code == 200
        # Several accounts: the URL must name one.
        r = c.post("/monday/webhook", json=event(uuid="c"))
        assert (r.status_code, r.json()["error"]) == (400, "account_required")
        r = c.post("/monday/webhook?account=initech", json=event(uuid="d"))
        assert (r.status_code, r.json()["error"]) == (401, "unknown_account")
        assert c.post("/monday/webhook?account=globex", json=event(uuid="e")).status_code == 200
    assert [r[0] for r in stored_events(db, STORED)] == ["acme", "acme", "globex"]
    with db.connection() as conn:  # the JWT carries a short-lived API token: never kept
        assert all("authorization" not in json.loads(h) for (h,) in conn.fetchall("SELECT headers FROM events"))
    server.stop()
    assert SECRET not in server.log()


def test_malformed_bodies_and_no_account(db: Database, server: Server) -> None:
    with server.client() as c:
        r = c.post("/monday/webhook", json=event())
        assert (r.status_code, r.json()["error"]) == (401, "unknown_account")
        AccountStore(db, BOX).add("acme", "acme-monday-token-0123456789", None, None)
        time.sleep(0.3)
        cases = [
            (b"nope", "invalid_json"),
            (b"[]", "invalid_envelope"),
            (b'{"challenge": 5}', "invalid_envelope"),
            (b"{}", "missing_event"),
            (b'{"event": {"pulseId": 1}}', "missing_event"),
            (b'{"event": {"type": 5}}', "invalid_envelope"),
            (b'{"event": "create_pulse"}', "invalid_envelope"),
        ]
        for body, reason in cases:
            r = c.post("/monday/webhook", content=body)
            assert (r.status_code, r.json()["error"]) == (400, reason), body
    assert stored_events(db, STORED) == []


def test_dedup_without_trigger_uuid_uses_time_and_digest(db: Database, server: Server) -> None:
    AccountStore(db, BOX).add("acme", "acme-monday-token-0123456789", None, None)
    a = event("update_column_value", columnId="status", value={"label": {"text": "Done"}})
    b = event("update_column_value", columnId="status", value={"label": {"text": "Stuck"}})
    for e in (a, b):
        del e["event"]["triggerUuid"]
    with server.client() as c:
        ids = [c.post("/monday/webhook", json=x).json()["id"] for x in (a, b, a)]
        bare = [c.post("/monday/webhook", content=json.dumps({"event": {"type": "x"}})).json()["id"] for _ in "ab"]
    assert ids[0] == ids[2] and ids[0] != ids[1]
    assert bare[0] == bare[1]


def test_a_sealed_signing_secret_is_opened_by_serve_and_never_bypassed(db: Database, start_server) -> None:
    key = "a-long-random-secret-key-for-tests-0123456789"
    AccountStore(db, SecretBox(key)).add("acme", "acme-monday-token-0123456789", SECRET, None)
    with db.connection() as conn:
        (sealed,) = conn.fetchone("SELECT signing_secret FROM monday_accounts")
    assert sealed.startswith("scrypt:") and SECRET not in sealed
    good = start_server(env={"HOOKLINE_SECRET_KEY": key})
    with good.client() as c:
        assert c.post("/monday/webhook", json=event(), headers={"authorization": token()}).status_code == 200
        assert c.post("/monday/webhook", json=event(uuid="x")).json()["error"] == "missing_jwt"
    good.stop()  # one serve per SQLite file
    wrong = start_server(env={"HOOKLINE_SECRET_KEY": "another-key-entirely-0123456789"})
    with wrong.client() as c:  # a secret it cannot open: retry later, never accept unchecked
        r = c.post("/monday/webhook", json=event(uuid="y"), headers={"authorization": token()})
        assert r.status_code == 503 and r.json()["error"] == "unavailable"
    assert len(stored_events(db, STORED)) == 1
