"""POST /calendly/webhook against a real server, on both engines: signatures good, bad, stale, rotated."""

from __future__ import annotations

import json
import time

from hookline.providers.calendly import signature
from hookline.providers.calendly.accounts import AccountStore
from hookline.providers.calendly.keys import KeyStore
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from tests.support import Server, stored_events

BOX = SecretBox(None)  # the servers and CLIs of these tests run without HOOKLINE_SECRET_KEY

KEY = "calendly-signing-key-acme-000001"
ROTATED = "calendly-signing-key-acme-000002"
OTHER = "calendly-signing-key-globex-0001"
INVITEE = "https://api.calendly.com/scheduled_events/EV1/invitees/INV1"


CREATED = "2026-11-23T10:00:00.000000Z"


def envelope(event: str = "invitee.created", uri: str = INVITEE, created_at: str = CREATED) -> dict:
    return {
        "event": event,
        "created_at": created_at,
        "created_by": "https://api.calendly.com/users/U1",
        "payload": {"uri": uri, "email": "jane@example.com", "status": "active"},
    }


def signed(body: bytes, key: str = KEY, t: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if t is None else t
    return {"content-type": "application/json", "calendly-webhook-signature": signature.header_value(key, ts, body)}


def register(db: Database) -> KeyStore:
    accounts, keys = AccountStore(db, BOX), KeyStore(db, BOX)
    accounts.add("acme", "acme-api-token-0123456789", None, None)
    accounts.add("globex", "globex-api-token-0123456789", None, None)
    keys.add("acme", KEY)
    keys.add("globex", OTHER)
    return keys


# The events columns these tests compare.
STORED = "id, account, event, duplicate_count, known, resource_id, headers, body"


def test_signed_event_is_stored_with_its_account_and_signature(db: Database, server: Server) -> None:
    register(db)
    body = json.dumps(envelope()).encode()
    headers = signed(body)
    with server.client() as c:
        r = c.post("/calendly/webhook", content=body, headers=headers)
    assert r.status_code == 200, r.text
    (row,) = stored_events(db, STORED)
    assert row[0] == r.json()["id"] and r.json()["duplicate"] is False
    assert (row[1], row[2], row[3], bool(row[4]), row[5]) == ("acme", "invitee.created", 0, True, INVITEE)
    assert json.loads(row[6])["calendly-webhook-signature"] == headers["calendly-webhook-signature"]
    assert bytes(row[7]) == body


def test_resend_is_a_duplicate_and_distinct_events_are_not(db: Database, server: Server) -> None:
    register(db)
    first = json.dumps(envelope()).encode()
    canceled = json.dumps(envelope("invitee.canceled", created_at="2026-11-23T11:00:00.000000Z")).encode()
    other_invitee = json.dumps(envelope(uri=INVITEE.replace("INV1", "INV2"))).encode()
    with server.client() as c:
        a = c.post("/calendly/webhook", content=first, headers=signed(first, t=int(time.time()) - 5))
        b = c.post("/calendly/webhook", content=first, headers=signed(first))  # Calendly's retry: new t
        more = (canceled, other_invitee)
        ids = {c.post("/calendly/webhook", content=x, headers=signed(x)).json()["id"] for x in more}
    assert a.json()["id"] == b.json()["id"] and b.json()["duplicate"] is True
    assert len(ids | {a.json()["id"]}) == 3
    assert [row[3] for row in stored_events(db, STORED)] == [1, 0, 0]


def test_unknown_event_type_is_stored_as_unknown(db: Database, server: Server) -> None:
    register(db)
    body = json.dumps(envelope("invitee.teleported")).encode()
    with server.client() as c:
        assert c.post("/calendly/webhook", content=body, headers=signed(body)).status_code == 200
    (row,) = stored_events(db, STORED)
    assert row[2] == "invitee.teleported" and not row[4]


def test_rotation_several_keys_per_account_and_keys_name_accounts(db: Database, server: Server) -> None:
    keys = register(db)
    keys.add("acme", ROTATED)
    bodies = [json.dumps(envelope(uri=f"{INVITEE}{i}")).encode() for i in range(3)]
    with server.client() as c:
        assert c.post("/calendly/webhook", content=bodies[0], headers=signed(bodies[0], KEY)).status_code == 200
        assert c.post("/calendly/webhook", content=bodies[1], headers=signed(bodies[1], ROTATED)).status_code == 200
        assert c.post("/calendly/webhook", content=bodies[2], headers=signed(bodies[2], OTHER)).status_code == 200
    assert [row[1] for row in stored_events(db, STORED)] == ["acme", "acme", "globex"]


def test_a_retired_key_stops_verifying_once_expired(db: Database, server: Server) -> None:
    keys = register(db)
    (entry,) = [e for e in keys.entries("acme")]
    keys.retire(entry.id, grace=-1)  # already past its grace period
    body = json.dumps(envelope()).encode()
    with server.client() as c:
        r = c.post("/calendly/webhook", content=body, headers=signed(body, KEY))
    assert r.status_code == 401 and r.json()["error"] == "bad_signature"


def test_bad_signatures_are_401_and_nothing_is_stored(db: Database, server: Server) -> None:
    register(db)
    body = json.dumps(envelope()).encode()
    now = int(time.time())
    good = signature.compute(KEY, now, body)
    cases = [
        ({}, "missing_signature"),
        ({"calendly-webhook-signature": ""}, "missing_signature"),
        ({"calendly-webhook-signature": "garbage"}, "invalid_signature"),
        ({"calendly-webhook-signature": f"v1={good}"}, "invalid_signature"),
        ({"calendly-webhook-signature": f"t={now}"}, "invalid_signature"),
        ({"calendly-webhook-signature": f"t=abc,v1={good}"}, "invalid_signature"),
        (signed(body, "not-a-registered-key-000000000"), "bad_signature"),
        ({"calendly-webhook-signature": f"t={now},v1={'0' * 64}"}, "bad_signature"),
        ({"calendly-webhook-signature": f"t={now + 1},v1={good}"}, "bad_signature"),  # t is signed too
        (signed(body, t=now - 600), "stale_signature"),
        (signed(body, t=now + 600), "stale_signature"),
    ]
    with server.client() as c:
        for headers, reason in cases:
            r = c.post("/calendly/webhook", content=body, headers=headers)
            assert r.status_code == 401, (headers, r.text)
            assert r.json()["error"] == reason, headers
        tampered = body.replace(b"jane", b"john")
        r = c.post("/calendly/webhook", content=tampered, headers=signed(body))
        assert r.status_code == 401 and r.json()["error"] == "bad_signature"
    assert stored_events(db, STORED) == []


def test_signed_but_malformed_bodies_are_400(db: Database, server: Server) -> None:
    register(db)
    cases = [
        (b"not json", "invalid_json"),
        (b"[1, 2]", "invalid_envelope"),
        (json.dumps({**envelope(), "created_at": 5}).encode(), "invalid_envelope"),
        (json.dumps({k: v for k, v in envelope().items() if k != "event"}).encode(), "missing_event"),
    ]
    with server.client() as c:
        for body, reason in cases:
            r = c.post("/calendly/webhook", content=body, headers=signed(body))
            assert (r.status_code, r.json()["error"]) == (400, reason), body
    assert stored_events(db, STORED) == []


def test_tolerance_is_a_setting(db: Database, start_server) -> None:
    register(db)
    server = start_server(env={"HOOKLINE_CALENDLY_TOLERANCE_SECONDS": "5"})
    body = json.dumps(envelope()).encode()
    with server.client() as c:
        r = c.post("/calendly/webhook", content=body, headers=signed(body, t=int(time.time()) - 30))
        assert r.status_code == 401 and r.json()["error"] == "stale_signature"
        assert c.post("/calendly/webhook", content=body, headers=signed(body)).status_code == 200


def test_key_added_while_serving_works_at_once_and_secrets_stay_out_of_logs(db: Database, server: Server) -> None:
    register(db)
    fresh = "calendly-signing-key-added-later-1"
    body = json.dumps(envelope()).encode()
    with server.client() as c:
        assert c.post("/calendly/webhook", content=body, headers=signed(body, fresh)).status_code == 401
        KeyStore(db, BOX).add("acme", fresh)
        time.sleep(0.3)  # a miss reloads the keys at most every 0.25 s
        assert c.post("/calendly/webhook", content=body, headers=signed(body, fresh)).status_code == 200
    server.stop()
    log = server.log()
    assert fresh not in log and KEY not in log and "acme-api-token" not in log
