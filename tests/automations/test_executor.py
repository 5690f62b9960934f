"""The executor: steps in order with earlier results, retries on 5xx/429/network errors, 4xx failed
at once with the response kept, parked after the last attempt, retried by hand, alerts and Apprise."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hookline.automations import alerts, runs
from hookline.automations.executor import Executor
from hookline.pipeline.worker import Worker
from hookline.runtime import Runtime
from hookline.store.engine import Database
from tests.automations.conftest import append, apply_rules, call_event, run_rows, runtime_for
from tests.sink import Answer, Sink
from tests.support import run_cli

TERMINAL = ("succeeded", "failed", "parked")


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink().start()
    try:
        yield s
    finally:
        s.close()


def crm_rules(url: str) -> str:
    return f"""
[[rules]]
name = "crm-card"
on = ["aircall:call.created"]
if = 'data.direction == "inbound"'

[[rules.steps]]
id = "crm"
action = "http"
method = "GET"
url = "{url}?phone={{{{ data.raw_digits | urlencode }}}}"
headers = {{ Authorization = "Bearer crm-s3cret", Accept = "application/json" }}

[[rules.steps]]
action = "http"
method = "POST"
url = "{url}?step=2"
headers = {{ X-Company = "{{{{ steps.crm.json.company }}}}" }}
[rules.steps.json]
company = "{{{{ steps.crm.json.company }}}}"
status = "{{{{ steps.crm.status }}}}"
call = "{{{{ data.id }}}}"
"""


def execute(runtime: Runtime, db: Database, until: Callable[[list[dict[str, Any]]], bool],
            timeout: float = 20.0) -> list[dict[str, Any]]:
    """Match what is queued, then run the executor until `until(runs)` holds."""

    async def main() -> list[dict[str, Any]]:
        worker = Worker(runtime)
        while await worker.run_once():
            pass
        stop = asyncio.Event()
        task = asyncio.create_task(Executor(runtime).run(stop))
        deadline = time.monotonic() + timeout
        found = run_rows(db)
        while time.monotonic() < deadline and not until(found):
            await asyncio.sleep(0.05)
            found = run_rows(db)
        stop.set()
        await task
        return found

    return asyncio.run(main())


def all_done(found: list[dict[str, Any]]) -> bool:
    return bool(found) and all(r["state"] in TERMINAL for r in found)


def test_steps_run_in_order_and_read_earlier_results(db: Database, database_url: str, sink: Sink) -> None:
    sink.script.append(Answer(200, {"Content-Type": "application/json"}, '{"company": "ACME <Ltd>"}'))
    apply_rules(db, crm_rules(sink.url))
    [event_id] = append(db, [call_event(direction="inbound", raw_digits="+33 1 23", id=4242)])
    [run] = execute(runtime_for(database_url), db, all_done)
    assert run["state"] == "succeeded" and run["attempts"] == 1, run
    lookup, post = sink.snapshot()
    assert lookup.path == "/hook?phone=%2B33+1+23" or lookup.path == "/hook?phone=%2B33%201%2023"
    assert post.json == {"company": "ACME <Ltd>", "status": "200", "call": "4242"}
    assert post.headers["x-company"] == "ACME <Ltd>"
    assert lookup.headers["authorization"] == "Bearer crm-s3cret"  # sent, but never recorded
    assert run["steps"][0]["request"]["headers"] == {"Authorization": "***", "Accept": "application/json"}
    assert "crm-s3cret" not in json.dumps(run)
    assert [s["state"] for s in run["steps"]] == ["succeeded", "succeeded"]
    assert run["steps"][0]["result"]["json"] == {"company": "ACME <Ltd>"} and run["event_id"] == event_id


def test_5xx_and_429_are_retried_honouring_retry_after(db: Database, database_url: str, sink: Sink) -> None:
    sink.script.extend([Answer(503), Answer(429, {"Retry-After": "1"}), Answer(200)])
    apply_rules(db, crm_rules(sink.url).split("[[rules.steps]]\naction")[0])  # the lookup step only
    append(db, [call_event(direction="inbound")])
    [run] = execute(runtime_for(database_url, automations_backoff_seconds=0.05), db, all_done)
    got = sink.snapshot()
    assert [r.status for r in got] == [503, 429, 200]
    assert run["state"] == "succeeded" and run["attempts"] == 3
    assert got[2].at - got[1].at >= 0.95  # Retry-After: 1 was honoured


def test_a_4xx_fails_at_once_with_the_response_kept(db: Database, database_url: str, sink: Sink) -> None:
    sink.default = Answer(422, {}, '{"error": "unknown phone"}')
    apply_rules(db, crm_rules(sink.url))
    append(db, [call_event(direction="inbound")])
    [run] = execute(runtime_for(database_url, automations_backoff_seconds=0.05), db, all_done)
    assert run["state"] == "failed" and run["attempts"] == 1 and len(sink.snapshot()) == 1
    [step] = run["steps"]
    assert step["status"] == 422 and step["response"] == '{"error": "unknown phone"}'
    assert run["last_error"] == "HTTP 422"


def test_a_url_in_the_outbound_deny_list_fails_at_once_and_is_never_connected(
    db: Database, database_url: str, sink: Sink
) -> None:
    """The outbound policy holds for rules too: with loopback denied, the sink on 127.0.0.1 sees nothing."""
    apply_rules(db, crm_rules(sink.url))
    append(db, [call_event(direction="inbound")])
    runtime = runtime_for(database_url, automations_backoff_seconds=0.05, outbound_deny_cidrs="127.0.0.0/8")
    [run] = execute(runtime, db, all_done)
    assert run["state"] == "failed" and run["attempts"] == 1, run
    assert "not sent" in run["last_error"] and "outbound policy" in run["last_error"]
    assert sink.snapshot() == []


def test_parked_after_the_last_attempt_then_retried_by_hand(db: Database, database_url: str, sink: Sink) -> None:
    sink.script.extend([Answer(200, {"Content-Type": "application/json"}, '{"company": "A"}'),
                        Answer(500), Answer(502)])
    apply_rules(db, crm_rules(sink.url))
    append(db, [call_event(direction="inbound")])
    runtime = runtime_for(database_url, automations_backoff_seconds=0.05, automations_max_attempts=2)
    [run] = execute(runtime, db, all_done)
    assert run["state"] == "parked" and run["attempts"] == 2 and "gave up after 2 attempts" in run["last_error"]
    assert [r.path for r in sink.snapshot()].count("/hook?step=2") == 2
    with db.connection() as conn, conn.transaction():
        assert runs.retry(conn, run["id"])
    [run] = execute(runtime, db, all_done)
    assert run["state"] == "succeeded"
    # The lookup that had succeeded was not requested again: 1 lookup, 3 posts.
    paths = [r.path for r in sink.snapshot()]
    assert paths.count("/hook?step=2") == 3 and len(paths) == 4


def test_an_alert_opens_once_per_window_key_and_the_next_steps_run_once(
    db: Database, database_url: str, sink: Sink
) -> None:
    apply_rules(db, f"""
[[rules]]
name = "missed"
on = ["aircall:call.ended"]
if = "data.missed_call_reason != null"
window = {{ count = 1, seconds = 3600, by = "data.number.id" }}

[[rules.steps]]
action = "alert"
severity = "critical"
title = "missed calls on {{{{ data.number.id }}}}"

[[rules.steps]]
action = "notify"
url = "json://127.0.0.1:{sink.port}/hook"
title = "missed call"
body = "{{{{ data.missed_call_reason }}}}"
""")
    t = int(time.time())
    bodies = [call_event("call.ended", missed_call_reason="short_abandoned", number={"id": n}, timestamp=t + i)
              for i, n in enumerate([1, 1, 2, 1])]
    append(db, bodies)
    runtime = runtime_for(database_url)
    found = execute(runtime, db, lambda f: len(f) == 4 and all_done(f))
    assert [r["state"] for r in found] == ["succeeded"] * 4
    with db.connection() as conn:
        opened = alerts.list_alerts(conn)
    assert sorted((a["window_key"], a["count"], a["severity"]) for a in opened) == [
        ("1", 3, "critical"), ("2", 1, "critical")]
    sent = sink.snapshot()
    assert len(sent) == 2 and {r.json["title"] for r in sent} == {"missed call"}
    assert {r.json["message"] for r in sent} == {"short_abandoned"}
    # Acknowledged: the next match opens a new alert and notifies again.
    with db.connection() as conn, conn.transaction():
        alerts.ack(conn, next(a["id"] for a in opened if a["window_key"] == "1"))
    append(db, [call_event("call.ended", missed_call_reason="short_abandoned", number={"id": 1}, timestamp=t + 9)])
    execute(runtime, db, lambda f: len(f) == 5 and all_done(f))
    with db.connection() as conn:
        assert len(alerts.list_alerts(conn, open_only=True)) == 2
    assert len(sink.snapshot()) == 3


def test_hostile_event_values_stay_inert_in_requests(db: Database, database_url: str, sink: Sink) -> None:
    apply_rules(db, f"""
[[rules]]
name = "echo"
on = ["aircall:call.created"]

[[rules.steps]]
action = "http"
method = "POST"
url = "{sink.url}"
json = {{ name = "{{{{ data.raw_digits }}}}" }}
""")
    hostile = "{{ ''.__class__.__mro__ }}{% raw %}"
    append(db, [call_event(raw_digits=hostile)])
    [run] = execute(runtime_for(database_url), db, all_done)
    assert run["state"] == "succeeded"
    assert json.loads(sink.snapshot()[0].body) == {"name": hostile}


def test_a_run_whose_executor_died_is_resumed_after_its_last_recorded_step(
    db: Database, database_url: str, sink: Sink
) -> None:
    sink.default = Answer(200, {"Content-Type": "application/json"}, '{"company": "B"}')
    apply_rules(db, crm_rules(sink.url))
    append(db, [call_event(direction="inbound")])
    runtime = runtime_for(database_url)
    execute(runtime, db, lambda f: bool(f), timeout=0)  # matched only: the executor stopped at once
    # A process claimed it, did the lookup, recorded it, and died (kill -9) before the second step.
    with db.connection() as conn:
        [claimed] = runs.claim(conn, "dead-process:1", 10, lease=0.2)
        done = {"index": 1, "id": "crm", "action": "http", "state": "succeeded", "status": 200,
                "result": {"status": 200, "json": {"company": "from the dead"}, "text": ""}}
        assert runs.record_steps(conn, claimed.id, "dead-process:1", [done])
    time.sleep(0.3)  # its lease lapses
    [run] = execute(runtime, db, all_done)
    assert run["state"] == "succeeded" and run["attempts"] == 2
    [post] = sink.snapshot()  # only the second step was requested
    assert post.path == "/hook?step=2" and post.json["company"] == "from the dead"
    assert run["steps"][0]["result"]["json"] == {"company": "from the dead"}


def test_rebuild_does_not_replay_the_log_into_rules(db: Database, database_url: str) -> None:
    from hookline.pipeline.handlers import registry
    from hookline.pipeline.rebuild import rebuild

    append(db, [call_event(direction="inbound")])
    runtime = runtime_for(database_url)
    execute(runtime, db, lambda f: True, timeout=0)
    apply_rules(db, crm_rules("http://127.0.0.1:9/hook"))  # a rule added after the event
    result = rebuild(db, registry(runtime))
    assert result.events == 1 and result.failed == []
    assert run_rows(db) == []


def test_a_backtest_equals_what_live_rules_did_and_sends_nothing(
    db: Database, database_url: str, sink: Sink
) -> None:
    from hookline.automations import rules as rule_store
    from hookline.automations.actions import registry
    from hookline.automations.backtest import backtest
    from hookline.automations.spec import CompiledRule
    from hookline.providers.registry import providers

    apply_rules(db, crm_rules(sink.url).replace("[[rules.steps]]\nid", 'window = { count = 2, seconds = 30, by = '
                                                '"data.raw_digits" }\n\n[[rules.steps]]\nid', 1))
    t = int(time.time()) - 3600
    digits = ["+1", "+2", "+1", "+1", "+2", "+3"]
    append(db, [call_event(direction="inbound" if i != 3 else "outbound", raw_digits=d, timestamp=t + i)
                for i, d in enumerate(digits)])
    live = execute(runtime_for(database_url), db, all_done)
    sent = len(sink.snapshot())
    with db.connection() as conn:
        rule = rule_store.get(conn, "crm-card")
        assert rule is not None
        result = backtest(conn, CompiledRule.build(rule.id, rule.updated_at, rule.spec),
                          {p.name: p for p in providers()}, registry(providers()), t, None)
    assert result["events"] == 6 and result["matched"] == 5
    assert result["would_run"] == len(live) == 2
    assert [s["event_id"] for s in result["samples"]] == sorted(r["event_id"] for r in live)
    # The command says the same, in the JSON fields the issue names, and sends nothing either.
    cli = run_cli("rules", "test", "crm-card", "--since", str(t), "--until", str(t + 60), "--json",
                  database_url=database_url)
    assert cli.returncode == 0, cli.stderr
    shown = json.loads(cli.stdout)
    assert (shown["matched"], shown["would_run"]) == (5, 2)
    assert len(sink.snapshot()) == sent and len(run_rows(db)) == 2  # nothing sent, nothing written


def test_an_alert_asked_again_by_the_same_event_is_the_one_it_opened(db: Database) -> None:
    with db.connection() as conn, conn.transaction():
        first = alerts.open_or_count(conn, "r", "k", "warning", "t", 1)
        again = alerts.open_or_count(conn, "r", "k", "warning", "t", 1)  # a resumed run
        other = alerts.open_or_count(conn, "r", "k", "warning", "t", 2)
    assert first == again == (first[0], True) and other == (first[0], False)
    with db.connection() as conn:
        assert alerts.get(conn, first[0])["count"] == 2
