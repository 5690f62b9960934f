"""`rules test` against what the live matcher did on the same stored events: the same runs, with the
same previews, when the events arrived out of order and when one does not say when it happened."""

from __future__ import annotations

import asyncio
import time

from hookline.automations import rules as rule_store
from hookline.automations.actions import registry
from hookline.automations.backtest import backtest
from hookline.automations.spec import CompiledRule
from hookline.pipeline.worker import Worker
from hookline.providers.registry import providers
from hookline.store.engine import Database
from tests.automations.conftest import append, apply_rules, call_event, run_rows, runtime_for

RULE = """
[[rules]]
name = "repeat-caller"
on = ["aircall:call.created"]
if = 'data.direction == "inbound"'
mode = "dry-run"
window = { count = 3, seconds = 30, by = "data.raw_digits" }

[[rules.steps]]
action = "http"
url = "http://127.0.0.1:9/seen?call={{ data.id }}&at={{ timestamp }}"
"""


def test_a_backtest_over_stored_events_equals_what_live_rules_did(db: Database, database_url: str) -> None:
    apply_rules(db, RULE)
    t = int(time.time()) - 3600

    def call(n: int, digits: str, at: int, direction: str = "inbound") -> dict[str, object]:
        return call_event(id=n, raw_digits=digits, direction=direction, timestamp=t + at)

    # +1 in time order: 0, 5, 10, then 12 (received then, no time given): the 3rd and 4th fire. The
    # one at 10 arrives first, so it fires only when the one at 5 arrives.
    ids = append(db, [call(1, "+1", 10), call(2, "+1", 0), call(3, "+2", 1), call(4, "+1", 3, "outbound"),
                      call(5, "+1", 5), call(6, "+2", 2)])
    [untimed] = append(db, [call(7, "+1", 12)], timed=False)
    runtime = runtime_for(database_url, worker_batch=2)

    async def drain() -> None:
        worker = Worker(runtime)
        while await worker.run_once():
            pass

    asyncio.run(drain())
    live = run_rows(db, "repeat-caller")
    assert sorted(r["event_id"] for r in live) == [ids[0], untimed]
    with db.connection() as conn:
        rule = rule_store.get(conn, "repeat-caller")
        assert rule is not None
        matches = conn.scalar("SELECT count(*) FROM automation_matches")
        result = backtest(conn, CompiledRule.build(rule.id, rule.updated_at, rule.spec),
                          {p.name: p for p in providers()}, registry(providers()), t - 1, None)
        assert conn.scalar("SELECT count(*) FROM automation_matches") == matches  # nothing written
    assert (result["events"], result["matched"], result["would_run"]) == (7, 6, len(live))
    # The same runs, each with the request it would send, rendered from the same timestamp.
    assert {s["event_id"]: s["steps"] for s in result["samples"]} == {r["event_id"]: r["steps"] for r in live}
    [card] = [s for s in result["samples"] if s["event_id"] == untimed]
    assert card["timestamp"] == t + 12 and card["steps"][0]["request"]["url"].endswith(f"at={float(t + 12)}")
    assert len(run_rows(db)) == len(live)

    # --until bounds the same time: the untimed event is left out, and with it its run.
    with db.connection() as conn:
        upto = backtest(conn, CompiledRule.build(rule.id, rule.updated_at, rule.spec),
                        {p.name: p for p in providers()}, registry(providers()), t - 1, t + 11)
    assert (upto["events"], upto["would_run"]) == (6, 1)
