"""GET /api/bookings[/{id}] on a real server: webhooks in, projected by serve's worker, then `hookline rebuild`."""

from __future__ import annotations

import json
import time

from hookline.providers.calendly import signature
from hookline.providers.calendly.accounts import AccountStore
from hookline.providers.calendly.keys import KeyStore
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from hookline.testing.calendly.fake_api import FakeCalendly
from tests.support import Server, run_cli

BOX = SecretBox(None)  # the servers and CLIs of these tests run without HOOKLINE_SECRET_KEY

KEY = "calendly-signing-key-api-test-0001"


def post(c, event: str, payload: dict) -> None:
    body = json.dumps({"event": event, "created_at": payload["updated_at"], "payload": payload}).encode()
    headers = {"calendly-webhook-signature": signature.header_value(KEY, int(time.time()), body)}
    assert c.post("/calendly/webhook", content=body, headers=headers).status_code == 200


def test_bookings_api(db: Database, database_url: str, server: Server) -> None:
    AccountStore(db, BOX).add("acme", "acme-token-0123456789", None, None)
    KeyStore(db, BOX).add("acme", KEY)
    fake = FakeCalendly(base_url="https://api.calendly.com")  # only to shape payloads
    now = time.time()
    ann = fake.add_booking("Ann", "ann@example.com", start=now + 86400, created_at=now - 60,
                           tracking={"utm_source": "ads", "utm_campaign": "q4"})
    bob = fake.add_booking("Bob", "bob@example.com", start=now + 2 * 86400, created_at=now - 50)
    canceled, moved = fake.reschedule(bob["uri"], now + 3 * 86400, at=now - 40)
    with server.client() as c:
        post(c, "invitee.created", ann)
        post(c, "invitee.created", moved)  # the new side first
        post(c, "invitee.canceled", canceled)
        post(c, "invitee.created", bob)  # an old snapshot, late
    with server.admin() as api:
        deadline = time.monotonic() + 30  # the worker projects after the answer
        while len(api.get("/api/bookings").json()["bookings"]) < 3 or _pending(db):
            assert time.monotonic() < deadline, "bookings not projected"
            time.sleep(0.1)
        everything = api.get("/api/bookings").json()
        assert [b["name"] for b in everything["bookings"]] == ["Bob", "Bob", "Ann"]  # latest start first
        old, new = everything["bookings"][1], everything["bookings"][0]
        assert (old["status"], old["rescheduled"], old["new_invitee"]) == ("canceled", True, new["invitee_uri"])
        assert (new["status"], new["old_invitee"]) == ("active", old["invitee_uri"])
        active = api.get("/api/bookings", params={"status": "active", "limit": 1}).json()
        assert len(active["bookings"]) == 1 and active["next_cursor"] == "1"
        rest = api.get("/api/bookings", params={"status": "active", "limit": 1, "cursor": "1"}).json()
        assert [b["name"] for b in rest["bookings"]] == ["Ann"] and rest["next_cursor"] is None
        one = api.get(f"/api/bookings/{ann['uri'].rsplit('/', 1)[-1]}").json()
        assert one["email"] == "ann@example.com" and one["tracking"]["utm_source"] == "ads"
        assert one["start_time"].endswith("Z") and one["questions_and_answers"][0]["answer"] == "Pricing"
        soon = api.get("/api/bookings", params={"until": str(now + 1.5 * 86400)}).json()
        assert [b["name"] for b in soon["bookings"]] == ["Ann"]
        assert api.get("/api/bookings/NOPE").status_code == 404
        bad = api.get("/api/bookings", params={"limit": "many"})
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_query"
        assert api.get("/api/bookings", params={"since": "yesterday"}).status_code == 400
    with server.client() as anonymous:
        assert anonymous.get("/api/bookings").status_code == 401
    # Two workers may project both sides of a reschedule at once, neither seeing the other: the API
    # still reads the link from the new side.
    with db.connection() as conn:
        conn.execute("UPDATE bookings SET new_invitee = NULL, rescheduled = ? WHERE invitee_uri = ?",
                     (False, old["invitee_uri"]))  # fmt: skip
    with server.admin() as api:
        again = api.get(f"/api/bookings/{old['id']}").json()
        assert (again["new_invitee"], again["rescheduled"]) == (new["invitee_uri"], True)
    before = everything["bookings"]
    rebuilt = run_cli("rebuild", "--yes", database_url=database_url)
    assert rebuilt.returncode == 0, rebuilt.stderr
    with server.admin() as api:
        assert api.get("/api/bookings").json()["bookings"] == before


def _pending(db: Database) -> int:
    with db.connection() as conn:
        return int(conn.scalar("SELECT count(*) FROM jobs"))
