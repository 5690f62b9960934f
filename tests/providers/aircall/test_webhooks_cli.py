"""`hookline aircall webhooks ...` against the fake Aircall API, and a real `hookline serve`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from hookline.providers.aircall.catalog import CATALOG
from hookline.providers.aircall.tokens import TokenEntry, TokenStore
from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import FakeAccount
from tests.providers.aircall.conftest import FakeAircall
from tests.support import Server

PUBLIC = "https://hooks.example.com"
HERE = PUBLIC + "/aircall/webhook"


def _clean(result: Any, *secrets: str) -> None:
    assert "Traceback" not in result.stderr
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr


def _tokens(db: Database) -> list[TokenEntry]:
    return TokenStore(db).entries()


def test_create_registers_the_token_and_serve_accepts_it(
    cli: Callable[..., Any], fake_aircall: FakeAircall, acme: FakeAccount, db: Database, server: Server
) -> None:
    target = server.url + "/aircall/webhook"
    refused = cli("aircall", "webhooks", "create", "--url", target)
    assert refused.returncode == 2 and "https" in refused.stderr and "--allow-http" in refused.stderr
    assert fake_aircall.requests("POST") == []  # refused before asking Aircall

    created = cli("aircall", "webhooks", "create", "--url", target, "--allow-http", "--name", "hookline")
    assert created.returncode == 0, created.stderr
    (post,) = fake_aircall.requests("POST", "/v1/webhooks")
    assert post.body["events"] == list(CATALOG) and len(post.body["events"]) == 69  # by name, never empty
    assert post.body["custom_name"] == "hookline"
    (hook,) = fake_aircall.call(lambda: fake_aircall.state.webhooks_for("acme"))
    _clean(created, hook["token"], acme.api_token)
    assert hook["webhook_id"] in created.stdout

    (entry,) = _tokens(db)
    assert entry.webhook_id == hook["webhook_id"] and entry.account == "acme"
    event = {
        "resource": "call",
        "event": "call.created",
        "timestamp": int(time.time()),
        "token": hook["token"],
        "data": {"id": 42},
    }
    with server.client() as http:
        accepted = http.post("/aircall/webhook", json=event)
        assert accepted.status_code == 200, accepted.text
        assert http.post("/aircall/webhook", json={**event, "token": "not-registered"}).status_code == 401
    with server.admin() as admin:
        (stored,) = admin.get("/api/events").json()["events"]
    assert (stored["account"], stored["event"]) == ("acme", "call.created")


def test_list_show_update_enable_delete(
    cli: Callable[..., Any], fake_aircall: FakeAircall, acme: FakeAccount, db: Database
) -> None:
    env = {"HOOKLINE_PUBLIC_URL": PUBLIC}
    created = cli("aircall", "webhooks", "create", "--events", "call.created,call.ended", "--event", "user.*", env=env)
    assert created.returncode == 0, created.stderr
    ours = fake_aircall.call(lambda: fake_aircall.state.webhooks_for("acme"))[0]
    assert ours["url"] == HERE  # --url defaults to HOOKLINE_PUBLIC_URL + /aircall/webhook
    user_events = [e for e, t in CATALOG.items() if t.family == "user"]
    assert ours["events"] == ["call.created", "call.ended", *user_events]
    other = fake_aircall.call(
        lambda: fake_aircall.state.create_webhook("https://elsewhere.example/hook", ["call.created"], account="acme")
    )
    fake_aircall.call(lambda: fake_aircall.state.set_webhook_active(ours["webhook_id"], False))

    listed = cli("aircall", "webhooks", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    _clean(listed, ours["token"], other["token"], acme.api_token)
    rows = {r["webhook_id"]: r for r in json.loads(listed.stdout)}
    assert rows[ours["webhook_id"]]["points_here"] and rows[ours["webhook_id"]]["token_registered"]
    assert rows[ours["webhook_id"]]["active"] is False
    assert rows[ours["webhook_id"]]["events_count"] == 2 + len(user_events)
    assert not rows[other["webhook_id"]]["points_here"] and rows[other["webhook_id"]]["active"]
    table = cli("aircall", "webhooks", "list", env=env)
    assert "2 webhook(s), 1 inactive, 1 pointing here" in table.stdout

    shown = cli("aircall", "webhooks", "show", ours["webhook_id"])
    assert shown.returncode == 0 and "inactive" in shown.stdout and "call.ended" in shown.stdout
    _clean(shown, ours["token"])

    renamed = cli("aircall", "webhooks", "update", ours["webhook_id"], "--name", "renamed")
    assert renamed.returncode == 0, renamed.stderr
    put = fake_aircall.requests("PUT")[-1]
    assert put.body == {"events": ours["events"], "custom_name": "renamed"}  # events resent explicitly

    enabled = cli("aircall", "webhooks", "enable", ours["webhook_id"])
    assert enabled.returncode == 0 and "is active" in enabled.stdout
    put = fake_aircall.requests("PUT")[-1]
    assert put.body == {"events": ours["events"], "active": True}
    assert fake_aircall.call(lambda: fake_aircall.state.webhook(ours["webhook_id"]))["active"] is True

    narrowed = cli("aircall", "webhooks", "update", ours["webhook_id"], "--events", "call.ended")
    assert narrowed.returncode == 0
    assert fake_aircall.call(lambda: fake_aircall.state.webhook(ours["webhook_id"]))["events"] == ["call.ended"]
    http_url = cli("aircall", "webhooks", "update", ours["webhook_id"], "--url", "http://plain.example/x")
    assert http_url.returncode == 2 and "https" in http_url.stderr

    deleted = cli("aircall", "webhooks", "delete", ours["webhook_id"])
    assert deleted.returncode == 0 and "1 token(s) no longer accepted" in deleted.stdout
    assert _tokens(db) == []
    assert [w["webhook_id"] for w in fake_aircall.call(lambda: fake_aircall.state.webhooks_for("acme"))] == [
        other["webhook_id"]
    ]
    missing = cli("aircall", "webhooks", "show", ours["webhook_id"])
    assert missing.returncode == 1 and "no such resource" in missing.stderr and "Traceback" not in missing.stderr


def test_import_tokens_of_dashboard_webhooks(
    cli: Callable[..., Any], fake_aircall: FakeAircall, acme: FakeAccount, db: Database
) -> None:
    state = fake_aircall.state
    here = fake_aircall.call(lambda: state.create_webhook(HERE, ["call.created"], account="acme"))
    there = fake_aircall.call(lambda: state.create_webhook("https://elsewhere.example/x", None, account="acme"))
    unset = cli("aircall", "webhooks", "import")
    assert unset.returncode == 2 and "HOOKLINE_PUBLIC_URL" in unset.stderr

    env = {"HOOKLINE_PUBLIC_URL": PUBLIC + "/"}
    first = cli("aircall", "webhooks", "import", env=env)
    assert first.returncode == 0, first.stderr
    assert "1 token(s) imported, 0 already registered, 1 webhook(s) pointing elsewhere" in first.stdout
    _clean(first, here["token"])
    assert [(t.webhook_id, t.account) for t in _tokens(db)] == [(here["webhook_id"], "acme")]
    again = cli("aircall", "webhooks", "import", env=env)
    assert "0 token(s) imported, 1 already registered" in again.stdout
    everything = cli("aircall", "webhooks", "import", "--all")
    assert "1 token(s) imported, 1 already registered, 0 webhook(s)" in everything.stdout
    assert {t.webhook_id for t in _tokens(db)} == {here["webhook_id"], there["webhook_id"]}


def test_import_leaves_a_token_of_another_account_where_it_is(
    cli: Callable[..., Any], fake_aircall: FakeAircall, acme: FakeAccount, db: Database
) -> None:
    state = fake_aircall.state
    hook = fake_aircall.call(lambda: state.create_webhook(HERE, ["call.created"], account="acme"))
    TokenStore(db).add(hook["token"], "globex")  # registered by hand for another account
    imported = cli("aircall", "webhooks", "import", "--all")
    assert imported.returncode == 0, imported.stderr
    assert "belongs to account 'globex'" in imported.stdout + imported.stderr
    assert "0 token(s) imported" in imported.stdout
    _clean(imported, hook["token"])
    assert [t.account for t in _tokens(db)] == ["globex"]  # moved only by `token add --replace`


def test_api_errors_are_clear_messages(
    cli: Callable[..., Any], fake_aircall: FakeAircall, acme: FakeAccount, db: Database
) -> None:
    invalid = cli("aircall", "webhooks", "create", "--url", HERE, "--events", "call.created,call.nope")
    assert invalid.returncode == 1  # Aircall refused them: a failure at run time
    assert "not in hookline's catalog (sent anyway): call.nope" in invalid.stderr
    assert "Unknown webhook events: call.nope" in invalid.stderr
    _clean(invalid, acme.api_token)

    fake_aircall.call(
        lambda: [fake_aircall.state.create_webhook(f"https://x.example/{i}", ["call.created"]) for i in range(100)]
    )
    limit = cli("aircall", "webhooks", "create", "--url", HERE)
    assert limit.returncode == 1
    assert "reached its webhook limit" in limit.stderr and "webhooks delete ID" in limit.stderr
    _clean(limit, acme.api_token)
    assert _tokens(db) == []

    wrong = cli("aircall", "account", "add", "acme", "--replace", "--api-id", acme.api_id, "--api-token", "nope-nope")
    assert wrong.returncode == 0
    denied = cli("aircall", "webhooks", "list")
    assert denied.returncode == 1 and "rejected the credentials for account acme" in denied.stderr
    _clean(denied, "nope-nope")
