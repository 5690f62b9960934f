"""The watchdog: re-enables deactivated webhooks pointing here (with explicit events), records the
incident and backfills the gap, from the CLI and inside a real `hookline serve`."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

from hookline.store.engine import Database
from hookline.store.events import append_batch
from hookline.testing.aircall.fake_api import FakeAccount
from hookline.types import IncomingEvent
from tests.providers.aircall.conftest import FakeAircall
from tests.support import Server

PUBLIC = "https://hooks.example.com"
HERE = PUBLIC + "/aircall/webhook"


def _event(account: str, received_at: float, origin: str = "webhook") -> IncomingEvent:
    return IncomingEvent(
        provider="aircall",
        account=account,
        event="call.created",
        dedup_key=f"k{received_at}{origin}",
        body=b"{}",
        received_at=received_at,
        origin=origin,
    )


def _synced_ids(db: Database) -> set[str]:
    with db.connection() as conn:
        return {r[0] for r in conn.fetchall("SELECT resource_id FROM events WHERE event = 'call.synced'")}


def test_watchdog_once_reenables_records_and_backfills(
    cli: Callable[..., Any], fake_aircall: FakeAircall, acme: FakeAccount, db: Database
) -> None:
    state = fake_aircall.state
    now = time.time()
    last = now - 7200  # the last webhook received from acme: two hours ago
    with db.connection() as conn:
        append_batch(conn, [_event("acme", last - 50), _event("acme", last), _event("acme", now - 10, "backfill")])

    def seed() -> tuple[dict[str, Any], ...]:
        ours = state.create_webhook(HERE, ["call.created", "call.ended"], account="acme")
        by_token = state.create_webhook("https://proxy.example/in", ["call.ended"], account="acme")
        foreign = state.create_webhook("https://elsewhere.example/x", ["call.created"], account="acme")
        state.set_webhook_active(ours["webhook_id"], False)
        state.set_webhook_active(foreign["webhook_id"], False)
        early = state.add_call({"started_at": int(last - 1200)})  # before the window (margin 600 s)
        gap = [state.add_call({"started_at": int(t)}) for t in (last - 300, now - 3600, now - 60)]
        return ours, by_token, foreign, early, gap

    ours, by_token, foreign, _early, gap = fake_aircall.call(seed)
    added = cli("aircall", "token", "add", by_token["token"], "--account", "acme")
    assert added.returncode == 0

    env = {"HOOKLINE_PUBLIC_URL": PUBLIC}
    result = cli("aircall", "watchdog", "--once", env=env)
    assert result.returncode == 0, result.stderr
    assert f"re-enabled webhook {ours['webhook_id']} of account acme" in result.stdout
    assert "1 account(s), 2 webhook(s) pointing here, 1 re-enabled, 0 error(s)" in result.stdout

    (put,) = fake_aircall.requests("PUT")
    assert put.path == f"/v1/webhooks/{ours['webhook_id']}"
    assert put.body == {"events": ["call.created", "call.ended"], "active": True}  # explicit, never empty
    assert fake_aircall.call(lambda: state.webhook(ours["webhook_id"]))["active"] is True
    assert fake_aircall.call(lambda: state.webhook(foreign["webhook_id"]))["active"] is False  # not ours

    (incident,) = json.loads(cli("aircall", "incidents", "--json").stdout)
    assert (incident["account"], incident["webhook_id"], incident["url"]) == ("acme", ours["webhook_id"], HERE)
    assert incident["reenabled_at"] and incident["backfill_status"] == "done" and incident["error"] is None
    assert incident["backfill_since"] == _iso(math.floor(last - 600))  # the last *webhook* event, less the margin
    assert incident["backfill_new"] == 3
    assert _synced_ids(db) == {str(c["id"]) for c in gap}  # not the call before the window

    again = cli("aircall", "watchdog", "--once", env=env)
    assert again.returncode == 0 and "0 re-enabled" in again.stdout
    assert len(fake_aircall.requests("PUT")) == 1
    assert len(json.loads(cli("aircall", "incidents", "--json").stdout)) == 1


def test_lookback_is_bounded_and_errors_exit_1(
    cli: Callable[..., Any], fake_aircall: FakeAircall, acme: FakeAccount, db: Database
) -> None:
    state = fake_aircall.state

    def seed() -> dict[str, Any]:
        hook = state.create_webhook(HERE, ["call.ended"], account="acme")
        state.set_webhook_active(hook["webhook_id"], False)
        state.add_call({"started_at": int(time.time() - 7200)})  # older than the lookback
        return hook

    hook = fake_aircall.call(seed)
    env = {"HOOKLINE_PUBLIC_URL": PUBLIC, "HOOKLINE_AIRCALL_BACKFILL_MAX_LOOKBACK": "3600"}
    first = cli("aircall", "watchdog", "--once", env=env)
    assert first.returncode == 0, first.stderr
    # Created in Aircall's dashboard: re-enabled, and its unregistered token is pointed out.
    assert f"webhook {hook['webhook_id']} of acme points here but its token is not registered" in first.stderr
    (incident,) = json.loads(cli("aircall", "incidents", "--account", "acme", "--json").stdout)
    assert incident["webhook_id"] == hook["webhook_id"] and incident["last_event_at"] is None
    assert _seconds(incident["backfill_until"]) - _seconds(incident["backfill_since"]) == 3600
    assert _synced_ids(db) == set()

    bad = cli("aircall", "account", "add", "acme", "--replace", "--api-id", acme.api_id, "--api-token", "wrong-1234")
    assert bad.returncode == 0
    failed = cli("aircall", "watchdog", "--once", env=env)
    assert failed.returncode == 1
    assert "error: acme: Aircall rejected the credentials for account acme" in failed.stderr
    assert "wrong-1234" not in failed.stderr + failed.stdout and "Traceback" not in failed.stderr


def test_serve_runs_the_watchdog(
    start_server: Callable[..., Server],
    cli: Callable[..., Any],
    fake_aircall: FakeAircall,
    acme: FakeAccount,
    db: Database,
) -> None:
    state = fake_aircall.state

    def seed() -> tuple[dict[str, Any], dict[str, Any]]:
        hook = state.create_webhook(HERE, ["call.created", "call.ended"], account="acme")
        state.set_webhook_active(hook["webhook_id"], False)
        return hook, state.add_call({"started_at": int(time.time() - 120)})

    hook, call = fake_aircall.call(seed)
    server = start_server(env=fake_aircall.env(HOOKLINE_PUBLIC_URL=PUBLIC, HOOKLINE_AIRCALL_WATCHDOG_INTERVAL="0.3"))
    deadline = time.monotonic() + 30
    while not _synced_ids(db) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _synced_ids(db) == {str(call["id"])}, server.log()
    assert fake_aircall.call(lambda: state.webhook(hook["webhook_id"]))["active"] is True
    put = fake_aircall.requests("PUT")[0]
    assert put.body == {"events": ["call.created", "call.ended"], "active": True}
    with server.admin() as admin:
        metrics = admin.get("/metrics").text
    assert 'hookline_aircall_webhooks_reenabled_total{account="acme"} 1.0' in metrics
    assert "aircall.webhook_reenabled" in server.log() and acme.api_token not in server.log()
    # Deactivated again while serving: the next pass notices.
    fake_aircall.call(lambda: state.set_webhook_active(hook["webhook_id"], False))

    def reenabled() -> int:
        with db.connection() as conn:
            return int(conn.scalar("SELECT count(*) FROM aircall_incidents WHERE reenabled_at IS NOT NULL"))

    deadline = time.monotonic() + 30
    while reenabled() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert reenabled() == 2
    assert fake_aircall.call(lambda: state.webhook(hook["webhook_id"]))["active"] is True


def _iso(ts: float) -> str:
    from hookline.timeparse import iso

    return str(iso(ts))


def _seconds(text: str) -> float:
    from hookline.timeparse import parse_time

    return parse_time(text)
