"""End to end through a real `hookline serve`: an inbound call.created becomes an insight card on
the fake Aircall API; duplicates of the webhook do not post a second card; a dry-run rule posts
nothing; the CLI manages rules, runs and alerts (errors refused with exit 2, nothing stored)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import FakeAccount
from tests.automations.conftest import call_event
from tests.providers.aircall.conftest import FakeAircall
from tests.support import Server, run_cli

TOKEN = "automations-test-token-0123456789"

RULES = """
[[rules]]
name = "crm-card"
on = ["aircall:call.created"]
if = 'data.direction == "inbound"'

[[rules.steps]]
action = "aircall.insight_card"
title = "Caller {{ data.raw_digits }}"
lines = [{ label = "Plan", text = "Gold" }, { label = "CRM", text = "open", link = "https://crm.test/c/{{ data.id }}" }]

[[rules]]
name = "comment-dry"
on = ["aircall:call.created"]
mode = "dry-run"

[[rules.steps]]
action = "aircall.comment"
text = "would comment on {{ data.id }}"
"""


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    return predicate()


def test_an_inbound_call_gets_its_insight_card(
    db: Database, database_url: str, fake_aircall: FakeAircall, acme: FakeAccount,
    start_server: Callable[..., Server], tmp_path: Path,
) -> None:
    TokenStore(db).add(TOKEN, "acme")
    call = fake_aircall.call(lambda: fake_aircall.state.add_call({"direction": "inbound"}, account="acme"))
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(RULES)
    applied = run_cli("rules", "apply", str(rules_file), database_url=database_url, env=fake_aircall.env())
    assert applied.returncode == 0, applied.stderr
    assert "created: crm-card, comment-dry" in applied.stdout

    server = start_server(env=fake_aircall.env())
    body = call_event(direction="inbound", id=call["id"], raw_digits="+33 6 12", token=TOKEN)
    with server.client() as c:
        for _ in range(3):  # Aircall delivers at least once: duplicates
            assert c.post("/aircall/webhook", json=body).status_code == 200
        outbound = call_event(direction="outbound", id=call["id"] + 1, token=TOKEN)
        assert c.post("/aircall/webhook", json=outbound).status_code == 200

    cards = wait_for(lambda: fake_aircall.call(lambda: list(fake_aircall.state.insight_cards.get(call["id"], []))))
    assert cards == [{"contents": [
        {"type": "title", "text": "Caller +33 6 12"},
        {"type": "shortText", "label": "Plan", "text": "Gold"},
        {"type": "shortText", "label": "CRM", "text": "open", "link": f"https://crm.test/c/{call['id']}"},
    ]}]
    def finished() -> list[Any]:
        listed = json.loads(run_cli("runs", "list", "--json", database_url=database_url).stdout)
        return [r for r in listed if r["state"] == "succeeded"]

    assert wait_for(finished)
    time.sleep(0.3)  # would a duplicate run post a second card?
    assert len(fake_aircall.call(lambda: fake_aircall.state.insight_cards[call["id"]])) == 1
    runs = json.loads(run_cli("runs", "list", "--json", database_url=database_url).stdout)
    assert sorted((r["rule_name"], r["state"]) for r in runs) == [
        ("comment-dry", "dry-run"), ("comment-dry", "dry-run"), ("crm-card", "succeeded")]
    # The dry-run rule recorded its request and sent nothing.
    dry = next(r for r in runs if r["rule_name"] == "comment-dry" and r["event_id"] == runs[-1]["event_id"])
    assert dry["steps"][0]["request"]["json"] == {"content": f"would comment on {call['id']}"}
    assert fake_aircall.requests("POST", "/v1/calls/") and not [
        r for r in fake_aircall.requests("POST") if r.path.endswith("/comments")]
    assert fake_aircall.call(lambda: fake_aircall.state.comments) == {}


def test_rules_cli_refuses_a_bad_file_whole_and_manages_rules(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    good = tmp_path / "good.toml"
    good.write_text(RULES)
    bad = tmp_path / "bad.toml"
    bad.write_text(RULES.replace('if = \'data.direction == "inbound"\'', 'if = \'data.direction == "inbound" &&\'')
                   .replace("would comment on {{ data.id }}", "would comment on {{ data.id }"))
    refused = run_cli("rules", "apply", str(bad), database_url=database_url)
    assert refused.returncode == 2
    err = " ".join(refused.stderr.split())
    assert "rule 'crm-card', if: CEL line 1, column 31: Syntax error" in err
    assert "rule 'comment-dry', steps[1].text: Jinja line 1:" in err
    assert "Traceback" not in refused.stderr
    listed = run_cli("rules", "list", "--json", database_url=database_url)
    assert json.loads(listed.stdout) == []  # nothing stored

    dry = run_cli("rules", "apply", str(good), "--dry-run", database_url=database_url)
    assert dry.returncode == 0 and "would be created: crm-card, comment-dry" in dry.stdout
    assert json.loads(run_cli("rules", "list", "--json", database_url=database_url).stdout) == []
    assert run_cli("rules", "apply", str(good), database_url=database_url).returncode == 0
    assert "nothing to change" in run_cli("rules", "apply", str(good), database_url=database_url).stdout

    tested = run_cli("rules", "test", "crm-card", "--since", "0", "--json", database_url=database_url)
    tested = json.loads(tested.stdout)
    assert (tested["matched"], tested["would_run"], tested["samples"]) == (0, 0, [])
    bad_time = run_cli("rules", "test", "crm-card", "--since", "yesterday-ish", database_url=database_url)
    assert bad_time.returncode == 2 and "Traceback" not in bad_time.stderr
    assert run_cli("rules", "disable", "crm-card", database_url=database_url).returncode == 0
    shown = json.loads(run_cli("rules", "show", "crm-card", "--json", database_url=database_url).stdout)
    assert shown["enabled"] is False and shown["spec"]["steps"][0]["action"] == "aircall.insight_card"
    exported = run_cli("rules", "export", database_url=database_url).stdout
    assert "enabled = false" in exported and 'name = "crm-card"' in exported
    # The export applies back unchanged, and --prune removes what a file no longer names.
    (tmp_path / "export.toml").write_text(exported)
    again = run_cli("rules", "apply", str(tmp_path / "export.toml"), database_url=database_url)
    assert "nothing to change" in again.stdout, again.stdout + again.stderr
    one = tmp_path / "one.toml"
    one.write_text(RULES.split("[[rules]]\nname = \"comment-dry\"")[0])
    pruned = run_cli("rules", "apply", str(one), "--prune", database_url=database_url)
    assert "removed: comment-dry" in pruned.stdout
    assert run_cli("rules", "enable", "crm-card", database_url=database_url).returncode == 0
    assert run_cli("rules", "remove", "crm-card", database_url=database_url).returncode == 0
    missing = run_cli("rules", "show", "crm-card", database_url=database_url)
    assert missing.returncode == 2 and "no rule named 'crm-card'" in missing.stderr
    assert run_cli("runs", "retry", "99", database_url=database_url).returncode == 2
    assert run_cli("alerts", "ack", "99", database_url=database_url).returncode == 2
    assert json.loads(run_cli("alerts", "list", "--open", "--json", database_url=database_url).stdout) == []


def test_kill_9_during_a_run_resumes_it_and_requests_that_step_again(
    db: Database, database_url: str, start_server: Callable[..., Server], tmp_path: Path
) -> None:
    """The documented exactly-once limit: the process dies between the request and its outcome, so
    after the lease lapses another serve resumes the run and the request is made again, once."""
    from tests.sink import Answer, Sink

    TokenStore(db).add(TOKEN, "acme")
    sink = Sink().start()
    try:
        sink.script.append(Answer(200))
        sink.delay = 3.0  # the first request is in flight when the server dies
        rules_file = tmp_path / "rules.toml"
        rules_file.write_text(f"""
[[rules]]
name = "slow"
on = ["aircall:call.created"]

[[rules.steps]]
action = "http"
method = "POST"
url = "{sink.url}"
json = {{ call = "{{{{ data.id }}}}" }}
""")
        assert run_cli("rules", "apply", str(rules_file), database_url=database_url).returncode == 0
        env = {"HOOKLINE_AUTOMATIONS_LEASE_SECONDS": "2"}
        first = start_server(env=env)
        with first.client() as c:
            assert c.post("/aircall/webhook", json=call_event(token=TOKEN, id=555)).status_code == 200
        assert wait_for(lambda: sink.in_flight >= 1, 15)
        first.kill()
        sink.delay = 0.0
        second = start_server(env=env)
        with second.admin() as admin:
            done = wait_for(lambda: [r for r in admin.get("/api/runs").json()["runs"] if r["state"] == "succeeded"], 30)
        assert done and done[0]["attempts"] == 2
        # The first request is recorded when its (abandoned) handler ends.
        assert sink.wait_for(lambda s: len(s.snapshot()) >= 2, 10)
        time.sleep(0.5)
        bodies = [r.json for r in sink.snapshot()]
        assert bodies == [{"call": "555"}, {"call": "555"}]  # requested again, once, and no more
    finally:
        sink.close()


def test_forward_sends_the_event_to_a_named_destination_signed_and_once(
    db: Database, database_url: str, start_server: Callable[..., Server], tmp_path: Path
) -> None:
    from hookline.forwarding.destinations import DestinationStore
    from tests.sink import Sink

    TokenStore(db).add(TOKEN, "acme")
    sink = Sink().start()
    try:
        # Its own filters do not take Aircall events: only the rule sends it one.
        DestinationStore(db).add("crm", sink.url, events=["calendly:*"])
        rules_file = tmp_path / "rules.toml"
        rules_file.write_text("""
[[rules]]
name = "to-crm"
on = ["aircall:call.created"]
if = 'data.direction == "inbound"'

[[rules.steps]]
action = "forward"
destination = "crm"

[[rules]]
name = "to-crm-again"
on = ["aircall:call.*"]

[[rules.steps]]
action = "forward"
destination = "crm"
""")
        assert run_cli("rules", "apply", str(rules_file), database_url=database_url).returncode == 0
        server = start_server()
        with server.client() as c:
            body = call_event(token=TOKEN, id=777, direction="inbound")
            assert c.post("/aircall/webhook", json=body).status_code == 200
        assert sink.wait_for(lambda s: len(s.succeeded()) >= 1, 20)
        with server.admin() as admin:
            assert wait_for(lambda: len([r for r in admin.get("/api/runs").json()["runs"]
                                         if r["state"] == "succeeded"]) == 2, 20)
        time.sleep(0.5)
        [got] = sink.snapshot()  # two rules forwarded the same event: one delivery
        assert got.json["data"]["id"] == 777 and got.headers["webhook-signature"].startswith("v1,")
    finally:
        sink.close()
