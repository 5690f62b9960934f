"""The matcher in the worker's transaction: which events make runs, once per rule and event."""

from __future__ import annotations

import asyncio
import time

import pytest

from hookline.pipeline.worker import Worker
from hookline.store.engine import Database
from tests.automations.conftest import append, apply_rules, call_event, run_rows, runtime_for

RULES = """
[[rules]]
name = "inbound-card"
on = ["aircall:call.created"]
if = 'data.direction == "inbound"'

[[rules.steps]]
action = "http"
url = "http://127.0.0.1:9/lookup?phone={{ data.raw_digits | urlencode }}"

[[rules]]
name = "missed-reason"
on = ["aircall:call.*"]
if = "data.missed_call_reason != null"

[[rules.steps]]
action = "alert"
title = "missed: {{ data.missed_call_reason }}"

[[rules]]
name = "other-provider"
on = ["calendly:call.created"]

[[rules.steps]]
action = "alert"
title = "never"
"""


async def drain(worker: Worker) -> None:
    while await worker.run_once():
        pass


def test_matching_events_make_one_run_per_rule(db: Database, database_url: str) -> None:
    apply_rules(db, RULES)
    ids = append(db, [
        call_event(direction="inbound", missed_call_reason=None),
        call_event(direction="outbound", missed_call_reason=None),
        call_event("call.ended", direction="inbound", missed_call_reason="no_available_agent"),
        call_event("call.ended", direction="inbound"),  # sample data: reason absent or null
    ])
    asyncio.run(drain(Worker(runtime_for(database_url))))
    made = {(r["rule_name"], r["event_id"]) for r in run_rows(db)}
    assert made == {("inbound-card", ids[0]), ("missed-reason", ids[2])}
    assert all(r["state"] == "pending" and r["mode"] == "live" for r in run_rows(db))


def test_duplicates_and_replayed_batches_run_a_rule_once(db: Database, database_url: str) -> None:
    apply_rules(db, RULES)
    body = call_event(direction="inbound")
    first = append(db, [body], keys=["same"])
    again = append(db, [body, body], keys=["same", "same"])  # the provider resent it
    assert first[0] == again[0] == again[1]
    runtime = runtime_for(database_url)
    asyncio.run(drain(Worker(runtime)))
    # A second worker applying the same event again (a batch replayed after a crash) adds nothing.
    from hookline.pipeline.handlers import load_events, registry

    with db.connection() as conn, conn.transaction():
        for handler in registry(runtime)["aircall"]:
            if handler.name == "automations.rules":
                handler.apply(conn, load_events(conn, first))
    assert [(r["rule_name"], r["event_id"]) for r in run_rows(db)] == [("inbound-card", first[0])]


def test_disabled_rules_and_backfilled_events_do_not_match(db: Database, database_url: str) -> None:
    apply_rules(db, RULES)
    from hookline.automations import rules

    with db.connection() as conn, conn.transaction():
        assert rules.set_enabled(conn, "inbound-card", False)
    append(db, [call_event(direction="inbound")])
    asyncio.run(drain(Worker(runtime_for(database_url))))
    assert run_rows(db) == []


def test_dry_run_records_the_request_it_would_send(db: Database, database_url: str) -> None:
    apply_rules(db, RULES.replace('if = \'data.direction == "inbound"\'', 'if = \'data.direction == "inbound"\'\n'
                                  'mode = "dry-run"', 1))
    [event_id] = append(db, [call_event(direction="inbound", raw_digits="+33 1 23")])
    asyncio.run(drain(Worker(runtime_for(database_url))))
    [run] = run_rows(db, "inbound-card")
    assert run["state"] == "dry-run" and run["event_id"] == event_id and run["finished_at"] is not None
    assert run["steps"] == [{
        "index": 1, "id": None, "action": "http", "state": "dry-run",
        "request": {"method": "GET", "url": "http://127.0.0.1:9/lookup?phone=%2B33%201%2023"},
    }]


def test_a_window_fires_from_the_count_in_the_database(db: Database, database_url: str) -> None:
    apply_rules(db, """
[[rules]]
name = "burst"
on = ["aircall:call.created"]
if = 'data.direction == "outbound"'
window = { count = 3, seconds = 60, by = "data.user.id" }

[[rules.steps]]
action = "alert"
title = "burst by {{ data.user.id }}"
""")
    t = int(time.time())
    mine = [call_event(direction="outbound", user={"id": 7}, timestamp=t + i) for i in range(4)]
    other = [call_event(direction="outbound", user={"id": 8}, timestamp=t + i) for i in range(2)]
    late = [call_event(direction="outbound", user={"id": 8}, timestamp=t + 500)]
    ids = append(db, [*mine[:2], *other, *mine[2:], *late])
    # Two batches, as two workers would see them: the count is read from the database each time.
    runtime = runtime_for(database_url, worker_batch=3)
    asyncio.run(drain(Worker(runtime)))
    fired = sorted((r["window_key"], r["event_id"]) for r in run_rows(db, "burst"))
    assert fired == [("7", ids[4]), ("7", ids[5])]  # the 3rd and 4th of user 7 within 60 s


def test_hours_outside_business_hours(db: Database, database_url: str) -> None:
    apply_rules(db, """
[[rules]]
name = "after-hours"
on = ["aircall:call.created"]
hours = { tz = "Europe/Paris", days = "mon-fri", start = "09:00", end = "18:00", when = "outside" }

[[rules.steps]]
action = "alert"
title = "after hours"
""")
    # 2026-12-07 is a Monday: 10:00 and 20:00 in Paris (UTC+1).
    monday_10 = 1796634000
    ids = append(db, [call_event(timestamp=monday_10), call_event(timestamp=monday_10 + 10 * 3600),
                      call_event(timestamp=monday_10 + 5 * 86400)])  # Saturday 10:00
    asyncio.run(drain(Worker(runtime_for(database_url))))
    assert sorted(r["event_id"] for r in run_rows(db)) == [ids[1], ids[2]]


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0)], ids=["in-order", "reversed"])
def test_a_window_counts_across_concurrent_workers(db: Database, database_url: str, order: tuple[int, ...]) -> None:
    """Two workers (two connections, as two processes have) count the same key at once: the second
    waits for the first's commit and counts its match, so the last arrival completes the window even
    when its transaction started while the 2nd was not yet committed; the match at the latest time
    fires, whichever arrived last."""
    import threading

    from hookline.automations.matcher import RuleMatcher
    from hookline.pipeline.handlers import load_events

    apply_rules(db, """
[[rules]]
name = "burst"
on = ["aircall:call.created"]
window = { count = 3, seconds = 60, by = "data.user.id" }

[[rules.steps]]
action = "alert"
title = "burst"
""")
    t = int(time.time())
    ids = append(db, [call_event(user={"id": 7}, timestamp=t + i) for i in range(3)])
    runtime = runtime_for(database_url)
    a, b = db.connect(), db.connect()
    try:
        with a.transaction():
            RuleMatcher(runtime).apply(a, load_events(a, [ids[order[0]]]))
        second_done = threading.Event()

        def third() -> None:
            with b.transaction():
                RuleMatcher(runtime).apply(b, load_events(b, [ids[order[2]]]))
            second_done.set()

        with a.transaction():
            RuleMatcher(runtime).apply(a, load_events(a, [ids[order[1]]]))
            worker_b = threading.Thread(target=third)
            worker_b.start()
            time.sleep(0.5)  # the other worker is counting now
        worker_b.join(30)
        assert second_done.is_set()
    finally:
        a.close()
        b.close()
    assert [r["event_id"] for r in run_rows(db, "burst")] == [ids[2]]


BURST = """
[[rules]]
name = "burst"
on = ["aircall:call.created"]
window = { count = 3, seconds = 60, by = "data.user.id" }

[[rules.steps]]
action = "alert"
title = "burst by {{ data.user.id }}"
"""


def test_reordered_arrivals_fire_as_in_order_ones(db: Database, database_url: str) -> None:
    """Four calls of an agent 10 s apart: the 3rd and 4th in time fire, in whatever order they arrive
    (one worker transaction each); a resent webhook and a replayed batch add nothing; one alert each."""
    from hookline.automations import alerts
    from hookline.automations.matcher import RuleMatcher
    from hookline.pipeline.handlers import load_events
    from tests.automations.test_executor import all_done, execute

    apply_rules(db, BURST)
    t = int(time.time())
    offsets = [0, 10, 20, 30]
    orders = {7: [0, 1, 2, 3], 8: [3, 2, 1, 0], 9: [0, 3, 1, 2], 10: [2, 1, 0, 3], 11: [3, 0, 2, 1]}
    arrivals = [(user, offsets[order[i]]) for i in range(4) for user, order in orders.items()]
    ids = append(db, [call_event(user={"id": u}, timestamp=t + o) for u, o in arrivals],
                 keys=[f"{u}-{o}" for u, o in arrivals])
    of = dict(zip(ids, arrivals, strict=True))
    runtime = runtime_for(database_url, worker_batch=1)
    asyncio.run(drain(Worker(runtime)))
    made = run_rows(db, "burst")
    assert sorted(of[r["event_id"]] for r in made) == sorted((u, o) for u in orders for o in (20, 30))
    assert all(r["window_key"] == str(of[r["event_id"]][0]) for r in made)
    assert append(db, [call_event(user={"id": 8}, timestamp=t + 30)], keys=["8-30"]) == [ids[1]]  # resent
    asyncio.run(drain(Worker(runtime)))
    with db.connection() as conn, conn.transaction():  # the whole log matched again (a replayed batch)
        RuleMatcher(runtime).apply(conn, load_events(conn, ids))
    assert run_rows(db, "burst") == made
    done = execute(runtime, db, lambda f: len(f) == 10 and all_done(f))
    assert {r["state"] for r in done} == {"succeeded"}
    with db.connection() as conn:
        opened = alerts.list_alerts(conn)
    assert sorted((a["window_key"], a["count"]) for a in opened) == sorted((str(u), 2) for u in orders)


def test_runs_of_a_batch_are_created_in_one_statement_once_each(db: Database) -> None:
    """runs.create writes a batch's runs at once: a (rule, event) given twice in the batch, or again in
    a later batch (a duplicate webhook, a replay), is one run; the count is of the runs made, and the
    runs are in event order (the order the executor takes them)."""
    from hookline.automations import runs

    apply_rules(db, RULES)
    ids = append(db, [call_event(direction="inbound") for _ in range(3)])
    with db.connection() as conn:
        rule_id, rule_2 = (int(conn.scalar("SELECT id FROM rules WHERE name = ?", (n,)))
                           for n in ("inbound-card", "missed-reason"))
        batch = [(rule_2, "missed-reason", ids[2], "live", "", "pending", []),
                 (rule_id, "inbound-card", ids[1], "live", "", "pending", []),
                 (rule_id, "inbound-card", ids[1], "live", "", "pending", []),
                 (rule_id, "inbound-card", ids[0], "dry-run", "", "dry-run", [{"index": 1}])]
        with conn.transaction():
            assert runs.create(conn, batch) == 3
        with conn.transaction():
            assert runs.create(conn, [*batch, (rule_2, "missed-reason", ids[0], "live", "", "pending", [])]) == 1
    made = sorted(run_rows(db), key=lambda r: r["id"])
    assert [(r["rule_name"], r["event_id"]) for r in made] == [
        ("inbound-card", ids[0]), ("inbound-card", ids[1]), ("missed-reason", ids[2]), ("missed-reason", ids[0])]
    assert made[0]["state"] == "dry-run" and made[0]["finished_at"] is not None and made[1]["finished_at"] is None
