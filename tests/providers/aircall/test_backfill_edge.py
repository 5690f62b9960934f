"""A backfilled record whose event the log cannot hold is refused alone: the rest of its window is
stored, from the CLI (one transaction per batch) and inside `hookline serve` (the committer)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from hookline.providers.aircall.backfill import CommitterSink
from hookline.providers.aircall.synced import synced_event
from hookline.store.committer import Committer
from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import FakeAccount
from tests.providers.aircall.conftest import FakeAircall
from tests.support import Server

T0 = int(time.time()) - 3 * 86400
PUBLIC = "https://hooks.example.com"
NUL_ID = "call\x00secret-looking"
LONG_ID = "9" * 600  # over validate.MAX_ID_BYTES


def _synced_ids(db: Database) -> set[str]:
    with db.connection() as conn:
        return {r[0] for r in conn.fetchall("SELECT resource_id FROM events WHERE event = 'call.synced'")}


def test_cli_backfill_refuses_the_bad_records_and_stores_the_rest(
    cli: Callable[..., Any], fake_aircall: FakeAircall, acme: FakeAccount, db: Database
) -> None:
    state = fake_aircall.state

    def seed() -> list[dict[str, Any]]:
        good = [state.add_call({"started_at": T0 + i, "status": "done"}) for i in range(3)]
        state.add_call({"id": NUL_ID, "started_at": T0 + 1, "status": "done"})
        state.add_call({"id": LONG_ID, "started_at": T0 + 2, "status": "done"})
        return good

    good = fake_aircall.call(seed)
    args = ("aircall", "backfill", "--since", str(T0), "--until", str(T0 + 100), "--resources", "calls")
    result = cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["fetched"], summary["new"], summary["refused"]) == (5, 3, 2)
    assert summary["resources"] == [
        {"resource": "calls", "fetched": 5, "new": 3, "already_known": 0, "refused": 2, "resumed_from": None}
    ]
    assert _synced_ids(db) == {str(c["id"]) for c in good}
    assert result.stderr.count("aircall.backfill_refused") == 2, result.stderr
    assert "resource id contains a NUL character" in result.stderr
    assert "resource id is longer than 512 bytes" in result.stderr
    assert LONG_ID not in result.stderr and "\x00" not in result.stderr and '"data"' not in result.stderr

    again = cli(*args)  # the table summary: the refused are neither new nor already known
    assert again.returncode == 0, again.stderr
    assert "backfill done: 5 fetched, 0 new, 3 already known, 2 refused (see the log)" in again.stdout


def test_serve_watchdog_backfill_refuses_the_bad_record_and_stores_the_rest(
    start_server: Callable[..., Server], fake_aircall: FakeAircall, acme: FakeAccount, db: Database
) -> None:
    state = fake_aircall.state

    def seed() -> dict[str, Any]:
        hook = state.create_webhook(PUBLIC + "/aircall/webhook", ["call.created"], account="acme")
        state.set_webhook_active(hook["webhook_id"], False)
        state.add_call({"id": NUL_ID, "started_at": int(time.time() - 130)})
        return state.add_call({"started_at": int(time.time() - 120)})

    call = fake_aircall.call(seed)
    server = start_server(env=fake_aircall.env(HOOKLINE_PUBLIC_URL=PUBLIC, HOOKLINE_AIRCALL_WATCHDOG_INTERVAL="0.3"))
    deadline = time.monotonic() + 30
    while "aircall.backfill_done" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _synced_ids(db) == {str(call["id"])}, server.log()
    assert "aircall.backfill_refused" in server.log() and "\x00" not in server.log()
    with db.connection() as conn:
        status, new = conn.fetchone("SELECT backfill_status, backfill_new FROM aircall_incidents")
    assert (status, new) == ("done", 1)


def test_committer_sink_skips_an_event_the_committer_refuses(db: Database) -> None:
    """What validation would miss: the committer refuses that event alone, the sink counts it as None."""
    now = time.time()
    events = [synced_event("acme", "calls", {"id": rid, "started_at": T0}, now) for rid in (1, 2, 3)]
    events[1] = replace(events[1], resource_id="\ud800")  # a lone surrogate: no driver can encode it
    committer = Committer(db)
    committer.start()
    try:
        results = asyncio.run(CommitterSink(committer).append(events))
    finally:
        committer.stop()
    assert [r is None for r in results] == [False, True, False]
    assert _synced_ids(db) == {"1", "3"}


def test_a_lone_surrogate_in_an_api_answer_does_not_fail_its_page(
    cli: Callable[..., Any], fake_aircall: FakeAircall, acme: FakeAccount, db: Database
) -> None:
    """Aircall's JSON can escape half a surrogate pair alone (a name cut inside an emoji: `"\\ud83d"`),
    which msgspec refuses and no UTF-8 can hold. The page is read anyway: that half becomes U+FFFD,
    the call is stored with its other values as sent, and the window completes."""
    state = fake_aircall.state
    calls = fake_aircall.call(lambda: [state.add_call({"started_at": T0 + i, "status": "done",
                                                       "raw_digits": f"+33 1 {i} \ud83d" if i == 1 else "+33 1"})
                                       for i in range(3)])
    args = ("aircall", "backfill", "--since", str(T0), "--until", str(T0 + 100), "--resources", "calls", "--json")
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    assert (json.loads(result.stdout)["fetched"], json.loads(result.stdout)["new"]) == (3, 3)
    assert _synced_ids(db) == {str(c["id"]) for c in calls}
    with db.connection() as conn:
        body = conn.scalar("SELECT body FROM events WHERE resource_id = ?", (str(calls[1]["id"]),))
    assert json.loads(bytes(body))["data"]["raw_digits"] == "+33 1 1 \ufffd"
