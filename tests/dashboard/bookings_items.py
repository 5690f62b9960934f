"""What the Calendly and monday.com page tests share: accounts with their signing key/secret, and
their webhooks posted to the real receivers, signed as Calendly (HMAC header) and monday (JWT) sign."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import jwt

from hookline.providers.calendly import signature
from hookline.providers.calendly.accounts import AccountStore as CalendlyAccounts
from hookline.providers.calendly.keys import KeyStore
from hookline.providers.monday.accounts import AccountStore as MondayAccounts
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from hookline.testing.calendly.fake_api import FakeCalendly
from hookline.testing.monday.fake_api import FakeMonday
from tests.support import Server

BOX = SecretBox(None)  # the servers of these tests run without HOOKLINE_SECRET_KEY
CALENDLY_KEYS = {"sales": "calendly-signing-key-sales-000001", "support": "calendly-signing-key-support-0001"}
MONDAY_SECRETS = {"boards": "monday-signing-secret-boards-0123456789", "ops": "monday-signing-secret-ops-0123456789"}


def add_accounts(db: Database) -> None:
    for name, key in CALENDLY_KEYS.items():
        CalendlyAccounts(db, BOX).add(name, f"calendly-token-{name}-0123456789", None, None)
        KeyStore(db, BOX).add(name, key)
    for name, secret in MONDAY_SECRETS.items():
        MondayAccounts(db, BOX).add(name, f"monday-token-{name}-0123456789", secret, None)


def calendly_fake() -> FakeCalendly:
    return FakeCalendly(base_url="https://api.calendly.com")  # only to shape payloads


def post_calendly(client: httpx.Client, account: str, event: str, payload: dict[str, Any]) -> None:
    body = json.dumps({"event": event, "created_at": payload["updated_at"], "payload": payload}).encode()
    headers = {"calendly-webhook-signature": signature.header_value(CALENDLY_KEYS[account], int(time.time()), body)}
    r = client.post("/calendly/webhook", content=body, headers=headers)
    assert r.status_code == 200, r.text


def monday_fake() -> FakeMonday:
    return FakeMonday()  # only to shape events


def post_monday(client: httpx.Client, account: str, event: dict[str, Any]) -> None:
    now = int(time.time())
    token = jwt.encode({"accountId": 1, "userId": 7, "iat": now, "exp": now + 300}, MONDAY_SECRETS[account],
                       algorithm="HS256")  # fmt: skip
    r = client.post(f"/monday/webhook?account={account}", json={"event": event}, headers={"authorization": token})
    assert r.status_code == 200, r.text


def unsigned_refused(server: Server) -> None:
    """The receivers really check: an unsigned body is not taken (so the pages show only signed events)."""
    with server.client() as c:
        assert c.post("/calendly/webhook", json={"event": "invitee.created", "payload": {}}).status_code == 401
        assert c.post("/monday/webhook?account=boards", json={"event": {"type": "create_pulse"}}).status_code == 401
