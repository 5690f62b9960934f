"""Aircall's actions against the fake Aircall API: a comment posted with the account's credentials,
a 5xx retried, a 429 retried after its Retry-After, an unknown call (404) failed at once with
Aircall's answer kept."""

from __future__ import annotations

from functools import partial

import pytest

from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import FakeAccount
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


CARD_RULE = """
[[rules]]
name = "card"
on = ["aircall:call.created"]

[[rules.steps]]
action = "aircall.insight_card"
title = "Caller {{ data.raw_digits }}"
"""


def test_an_insight_card_answered_429_is_retried_after_retry_after(
    db: Database, database_url: str, fake_aircall: FakeAircall, acme: FakeAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKLINE_AIRCALL_API_URL", fake_aircall.url)
    call = fake_aircall.call(lambda: fake_aircall.state.add_call({"direction": "inbound"}, account="acme"))
    fake_aircall.call(lambda: fake_aircall.state.inject_failures(1, 429, retry_after=2))
    apply_rules(db, CARD_RULE)
    append(db, [call_event(id=call["id"], raw_digits="+33 1 23")])
    # Without Retry-After the run would be retried after 0.05 s, and the account's limiter would hold
    # its requests for 1 s (60 a minute).
    [run] = execute(runtime_for(database_url, automations_backoff_seconds=0.05), db, all_done)
    assert run["state"] == "succeeded" and run["attempts"] == 2
    posts = [r for r in fake_aircall.requests("POST") if r.path.endswith("/insight_cards")]
    assert len(posts) == 2 and posts[1].at - posts[0].at >= 1.95  # Retry-After: 2 was honoured
    assert fake_aircall.call(lambda: fake_aircall.state.insight_cards[call["id"]]) == [
        {"contents": [{"type": "title", "text": "Caller +33 1 23"}]}]


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


TAG_RULE = """
[[rules]]
name = "tag-vip"
on = ["aircall:call.created"]

[[rules.steps]]
action = "aircall.tag"
tag = "{{ 'VIP' if data.direction == 'inbound' else 'Outbound' }}"
color = "#FF0000"
"""


def test_a_tag_is_resolved_by_name_and_created_once_when_missing(
    db: Database, database_url: str, fake_aircall: FakeAircall, acme: FakeAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKLINE_AIRCALL_API_URL", fake_aircall.url)
    state = fake_aircall.state
    existing = fake_aircall.call(lambda: state.add("tags", {"name": "Outbound", "color": "#000000"}, account="acme"))
    calls = [fake_aircall.call(partial(state.add_call, {"direction": d}, account="acme"))
             for d in ("inbound", "inbound", "outbound", "inbound")]
    apply_rules(db, TAG_RULE)
    append(db, [call_event(id=c["id"], direction=c["direction"]) for c in calls])
    found = execute(runtime_for(database_url), db, lambda f: len(f) == 4 and all_done(f))
    assert [r["state"] for r in found] == ["succeeded"] * 4
    tags = fake_aircall.call(lambda: {t["name"]: t for t in state.records("tags", account="acme")})
    assert set(tags) == {"VIP", "Outbound"} and tags["VIP"]["color"] == "#FF0000"  # created once, not 3 times
    on_calls = fake_aircall.call(lambda: dict(state.call_tags))
    assert on_calls == {c["id"]: [tags["VIP"]["id"] if c["direction"] == "inbound" else existing["id"]]
                        for c in calls}
    assert len([r for r in fake_aircall.requests("POST") if r.path == "/v1/tags"]) == 1
    assert {tuple(r["steps"][0]["request"]["json"]["tags"]) for r in found} == {(tags["VIP"]["id"],),
                                                                                 (existing["id"],)}


TRANSFER_RULE = """
[[rules]]
name = "to-support"
on = ["aircall:call.created"]

[[rules.steps]]
action = "aircall.transfer"
team_id = "{{ 77 }}"
dispatching_strategy = "longest_idle"

[[rules]]
name = "to-mobile"
on = ["aircall:call.created"]
if = 'data.direction == "outbound"'

[[rules.steps]]
action = "aircall.transfer"
number = "{{ data.raw_digits }}"
"""


def test_a_live_call_is_transferred_and_an_ended_one_fails_with_aircalls_answer(
    db: Database, database_url: str, fake_aircall: FakeAircall, acme: FakeAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKLINE_AIRCALL_API_URL", fake_aircall.url)
    state = fake_aircall.state
    live = fake_aircall.call(lambda: state.add_call({"direction": "outbound", "status": "answered"}, account="acme"))
    ended = fake_aircall.call(lambda: state.add_call({"direction": "inbound", "status": "done"}, account="acme"))
    apply_rules(db, TRANSFER_RULE)
    append(db, [call_event(id=live["id"], direction="outbound", raw_digits="+33 6 12 34 56 78"),
                call_event(id=ended["id"], direction="inbound")])
    found = execute(runtime_for(database_url, automations_backoff_seconds=0.05), db,
                    lambda f: len(f) == 3 and all_done(f))
    assert sorted(r["state"] for r in found) == ["failed", "succeeded", "succeeded"]
    transfers = fake_aircall.call(lambda: dict(state.transfers))
    assert list(transfers) == [live["id"]]  # the ended call was refused by Aircall
    assert sorted(transfers[live["id"]], key=str) == sorted(
        [{"team_id": 77, "dispatching_strategy": "longest_idle"}, {"number": "+33612345678"}], key=str)
    [failed] = [r for r in found if r["state"] == "failed"]
    assert failed["attempts"] == 1 and "not ongoing" in failed["steps"][0]["response"]


def test_transfer_targets_are_checked_at_apply_time(db: Database) -> None:
    from hookline.automations.rulefile import RuleFileError

    for body, why in (("", "exactly one of user_id, team_id or number"),
                      ('user_id = "1"\nnumber = "+331"', "exactly one of"),
                      ('user_id = "1"\ndispatching_strategy = "random"', "only with team_id"),
                      ('team_id = "1"\ndispatching_strategy = "fastest"', "one of simultaneous")):
        with pytest.raises(RuleFileError, match=why):
            apply_rules(db, f'[[rules]]\nname = "t"\non = ["aircall:call.created"]\n'
                            f'[[rules.steps]]\naction = "aircall.transfer"\n{body}\n')


MESSAGE_RULE = """
[[rules]]
name = "sorry-sms"
on = ["aircall:call.ended"]
if = "data.missed_call_reason != null"

[[rules.steps]]
action = "aircall.send_message"
text = "Sorry we missed you, {{ data.contact.first_name | default('there', true) }}: we call back within the hour."
"""


def test_an_sms_is_sent_from_the_calls_number_to_the_caller(
    db: Database, database_url: str, fake_aircall: FakeAircall, acme: FakeAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKLINE_AIRCALL_API_URL", fake_aircall.url)
    state = fake_aircall.state
    number = fake_aircall.call(lambda: state.add("numbers", {"name": "Support", "digits": "+33 1 00"}, account="acme"))
    apply_rules(db, MESSAGE_RULE)
    append(db, [
        call_event("call.ended", id=1, number={"id": number["id"]}, raw_digits="+44 20 7946 0000",
                   missed_call_reason="no_available_agent", contact={"first_name": "Ada"}),
        call_event("call.ended", id=2, number={"id": 424242}, raw_digits="+44 20 7946 0001",
                   missed_call_reason="no_available_agent", contact=None),
    ])
    found = execute(runtime_for(database_url, automations_backoff_seconds=0.05), db,
                    lambda f: len(f) == 2 and all_done(f))
    assert sorted(r["state"] for r in found) == ["failed", "succeeded"]
    [sent] = fake_aircall.call(lambda: state.messages[number["id"]])
    assert (sent["to"], sent["body"]) == ("+442079460000",
                                          "Sorry we missed you, Ada: we call back within the hour.")
    [failed] = [r for r in found if r["state"] == "failed"]
    assert failed["steps"][0]["status"] == 404  # no such number on the account: final, not retried


def test_a_tag_deleted_at_aircall_after_it_was_cached_is_looked_up_again(
    db: Database, database_url: str, fake_aircall: FakeAircall, acme: FakeAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKLINE_AIRCALL_API_URL", fake_aircall.url)
    state = fake_aircall.state
    first, second = (fake_aircall.call(partial(state.add_call, {"direction": "inbound"}, account="acme"))
                     for _ in range(2))
    apply_rules(db, TAG_RULE)
    runtime = runtime_for(database_url, automations_backoff_seconds=0.05)
    append(db, [call_event(id=first["id"], direction="inbound")])
    execute(runtime, db, all_done)
    [old] = fake_aircall.call(lambda: state.records("tags", account="acme"))
    fake_aircall.call(lambda: state.remove("tags", old["id"]))
    append(db, [call_event(id=second["id"], direction="inbound")])
    found = execute(runtime, db, lambda f: len(f) == 2 and all_done(f))
    [run] = [r for r in found if r["attempts"] > 1]
    assert run["state"] == "succeeded" and run["attempts"] == 2
    [new] = fake_aircall.call(lambda: state.records("tags", account="acme"))
    assert new["name"] == "VIP" and new["id"] != old["id"]
    assert fake_aircall.call(lambda: state.call_tags[second["id"]]) == [new["id"]]
