"""monday.com's actions against the fake monday.com API: a missed Aircall call (or a Calendly booking)
becomes an item on a board (columns as monday's JSON text), a later step updates it from the first step's answer; a
board or group monday does not know fails at once with monday's message; the token never shows."""

from __future__ import annotations

import json
import time

import pytest

from hookline.pipeline import jobs
from hookline.providers.monday.accounts import AccountStore
from hookline.secretbox import SecretBox
from hookline.store import events as event_log
from hookline.store.engine import Database
from hookline.testing.monday.fake_api import DEFAULT_BOARD, FakeMonday
from hookline.testing.monday.simulator import DEFAULT_TOKEN
from hookline.types import IncomingEvent
from tests.automations.conftest import append, apply_rules, call_event, runtime_for
from tests.automations.test_executor import all_done, execute
from tests.providers.fake_server import RunningApp
from tests.providers.monday.conftest import fake_monday

__all__ = ["fake_monday"]

RULES = f"""
[[rules]]
name = "missed-to-board"
on = ["aircall:call.ended"]
if = "data.missed_call_reason != null"

[[rules.steps]]
id = "item"
action = "monday.create_item"
board = "{{{{ {DEFAULT_BOARD} }}}}"
group = "new_group"
item = "Missed call from {{{{ data.raw_digits }}}}"
columns = {{ status = {{ label = "Missed" }}, text = "{{{{ data.missed_call_reason }}}}" }}

[[rules.steps]]
action = "monday.update_item"
board = "{DEFAULT_BOARD}"
item_id = "{{{{ steps.item.json.id }}}}"
columns = {{ status = {{ label = "Call back" }} }}
"""


@pytest.fixture
def monday_url(fake_monday: tuple[FakeMonday, RunningApp], monkeypatch: pytest.MonkeyPatch, db: Database) -> str:
    _, running = fake_monday
    monkeypatch.setenv("HOOKLINE_MONDAY_API_URL", running.url + "/v2")
    AccountStore(db, SecretBox(None)).add("crm", DEFAULT_TOKEN, None, None)
    return running.url


def test_a_missed_call_becomes_an_item_then_is_updated(
    db: Database, database_url: str, fake_monday: tuple[FakeMonday, RunningApp], monday_url: str
) -> None:
    fake, _ = fake_monday
    apply_rules(db, RULES)
    append(db, [call_event("call.ended", id=5, raw_digits="+33 1 23 45 67 89", missed_call_reason="no_answer"),
                call_event("call.ended", id=6, missed_call_reason=None)])
    [run] = execute(runtime_for(database_url), db, all_done)
    assert run["state"] == "succeeded", run
    [(item_id, item)] = fake.items.items()
    assert item == {"board": DEFAULT_BOARD, "group": "new_group", "name": "Missed call from +33 1 23 45 67 89",
                    "columns": {"status": {"label": "Call back"}, "text": "no_answer"}}
    create, update = run["steps"]
    assert create["result"]["json"] == {"id": item_id, "name": item["name"]}
    assert json.loads(create["request"]["variables"]["values"]) == {"status": {"label": "Missed"},
                                                                    "text": "no_answer"}
    assert update["request"]["variables"]["item"] == item_id
    assert DEFAULT_TOKEN not in json.dumps(run)


def test_a_5xx_from_monday_is_retried_and_the_item_created_once(
    db: Database, database_url: str, fake_monday: tuple[FakeMonday, RunningApp], monday_url: str
) -> None:
    fake, _ = fake_monday
    apply_rules(db, RULES)
    fake.failures += [502, 503]  # the create, then (after the retry created the item) the update
    append(db, [call_event("call.ended", id=5, missed_call_reason="no_answer")])
    [run] = execute(runtime_for(database_url, automations_backoff_seconds=0.05), db, all_done)
    assert run["state"] == "succeeded" and run["attempts"] == 3, run
    [item] = fake.items.values()
    assert item["columns"] == {"status": {"label": "Call back"}, "text": "no_answer"}
    assert [s["state"] for s in run["steps"]] == ["succeeded", "succeeded"]


def test_a_429_from_monday_reschedules_the_run_after_its_retry_after(
    db: Database, database_url: str, fake_monday: tuple[FakeMonday, RunningApp], monday_url: str
) -> None:
    """A Retry-After longer than the client waits in place (30 s) gives the request back at once, and the
    run waits what monday.com asked, not the executor's own backoff (0.05 s here)."""
    fake, _ = fake_monday
    apply_rules(db, RULES)
    fake.failures.append(429)
    fake.retry_after = 90
    append(db, [call_event("call.ended", id=5, missed_call_reason="no_answer")])
    before = time.time()
    [run] = execute(runtime_for(database_url, automations_backoff_seconds=0.05), db,
                    lambda found: bool(found) and found[0]["attempts"] >= 1 and found[0]["state"] == "pending")
    assert fake.items == {} and "429" in run["last_error"] and "retry in 90 s" in run["last_error"]
    assert before + 85 <= float(run["run_at"]) <= time.time() + 91  # monday's 90 s, not 0.05 s
    assert [s["status"] for s in run["steps"]] == [429]


def test_an_unknown_group_fails_at_once_with_mondays_message(
    db: Database, database_url: str, fake_monday: tuple[FakeMonday, RunningApp], monday_url: str
) -> None:
    fake, _ = fake_monday
    apply_rules(db, RULES.replace('group = "new_group"', 'group = "nope"'))
    append(db, [call_event("call.ended", id=5, missed_call_reason="no_answer")])
    [run] = execute(runtime_for(database_url, automations_backoff_seconds=0.05), db, all_done)
    assert run["state"] == "failed" and run["attempts"] == 1 and fake.items == {}
    [step] = run["steps"]
    assert "Group not found" in step["response"] and len(run["steps"]) == 1


def test_columns_must_be_a_table_and_the_account_must_be_known(
    db: Database, database_url: str, fake_monday: tuple[FakeMonday, RunningApp], monday_url: str
) -> None:
    from hookline.automations.rulefile import RuleFileError

    with pytest.raises(RuleFileError, match=r"steps\[1\].columns: a table"):
        first = 'columns = { status = { label = "Missed" }, text = "{{ data.missed_call_reason }}" }'
        apply_rules(db, RULES.replace(first, 'columns = "status"'))
    apply_rules(db, RULES.replace('group = "new_group"', 'group = "new_group"\naccount = "other"'))
    append(db, [call_event("call.ended", id=5, missed_call_reason="no_answer")])
    [run] = execute(runtime_for(database_url), db, all_done)
    assert run["state"] == "failed" and "no monday.com account named 'other'" in run["last_error"]


BOOKING_RULES = f"""
[[rules]]
name = "booking-to-board"
on = ["calendly:invitee.created"]

[[rules.steps]]
action = "monday.create_item"
board = "{DEFAULT_BOARD}"
group = "new_group"
item = "{{{{ data.payload.name }}}}: {{{{ data.payload.scheduled_event.name }}}}"
columns = {{ email = "{{{{ data.payload.email }}}}", date = "{{{{ data.payload.scheduled_event.start_time[:10] }}}}" }}
"""


def test_a_calendly_booking_becomes_an_item(
    db: Database, database_url: str, fake_monday: tuple[FakeMonday, RunningApp], monday_url: str
) -> None:
    """The issue's other example: a Calendly booking (its `data` is the whole envelope) becomes an item."""
    fake, _ = fake_monday
    apply_rules(db, BOOKING_RULES)
    now = time.time()
    body = {"event": "invitee.created", "created_at": "2026-12-07T09:00:00.000000Z", "payload": {
        "name": "Ada Lovelace", "email": "ada@example.com", "status": "active",
        "scheduled_event": {"name": "Demo call", "start_time": "2026-12-09T15:00:00.000000Z"}}}
    conn = db.connect()
    try:
        event_log.append_batch(conn, [IncomingEvent(
            provider="calendly", account="acme", event="invitee.created", dedup_key="booking-1",
            body=json.dumps(body).encode(), received_at=now, occurred_at=now)], [jobs.enqueue_hook()])
    finally:
        conn.close()
    [run] = execute(runtime_for(database_url), db, all_done)
    assert run["state"] == "succeeded", run
    [item] = fake.items.values()
    assert item == {"board": DEFAULT_BOARD, "group": "new_group", "name": "Ada Lovelace: Demo call",
                    "columns": {"email": "ada@example.com", "date": "2026-12-09"}}
