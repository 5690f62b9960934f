"""Aircall's actions against the fake Aircall API: a comment posted with the account's credentials,
a 5xx retried, an unknown call (404) failed at once with Aircall's answer kept."""

from __future__ import annotations

import pytest

from hookline.providers.aircall.fake_api import FakeAccount
from hookline.store.engine import Database
from tests.automations.conftest import append, apply_rules, call_event, runtime_for
from tests.automations.test_executor import all_done, execute
from tests.providers.aircall.conftest import FakeAircall

RULE = """
[[rules]]
name = "note"
on = ["aircall:call.ended"]

[[rules.steps]]
action = "aircall.comment"
text = "Missed because {{ data.missed_call_reason }}"
"""


def test_a_comment_is_posted_and_a_5xx_retried(
    db: Database, database_url: str, fake_aircall: FakeAircall, acme: FakeAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKLINE_AIRCALL_API_URL", fake_aircall.url)
    call = fake_aircall.call(lambda: fake_aircall.state.add_call({"direction": "inbound"}, account="acme"))
    fake_aircall.call(lambda: fake_aircall.state.inject_failures(1, 503))
    apply_rules(db, RULE)
    append(db, [call_event("call.ended", id=call["id"], missed_call_reason="out_of_opening_hours")])
    [run] = execute(runtime_for(database_url, automations_backoff_seconds=0.05), db, all_done)
    assert run["state"] == "succeeded" and run["attempts"] == 2
    assert fake_aircall.call(lambda: fake_aircall.state.comments) == {
        call["id"]: [{"content": "Missed because out_of_opening_hours"}]}
    assert run["steps"][0]["request"] == {"method": "POST", "path": f"/v1/calls/{call['id']}/comments",
                                          "json": {"content": "Missed because out_of_opening_hours"}}


def test_an_unknown_call_fails_at_once_with_the_answer_kept(
    db: Database, database_url: str, fake_aircall: FakeAircall, acme: FakeAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKLINE_AIRCALL_API_URL", fake_aircall.url)
    apply_rules(db, RULE)
    append(db, [call_event("call.ended", id=987654, missed_call_reason="x")])
    [run] = execute(runtime_for(database_url, automations_backoff_seconds=0.05), db, all_done)
    assert run["state"] == "failed" and run["attempts"] == 1
    [step] = run["steps"]
    assert step["status"] == 404 and "Aircall has no such resource" in step["response"]
    assert len([r for r in fake_aircall.requests("POST") if r.path.endswith("/comments")]) == 1
