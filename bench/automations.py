"""Rule evaluation in the worker: events/s with 50 rules, as a ratio to the same worker with none.

    .venv/bin/python bench/automations.py [--events 5000]

Each round stores the same Aircall events (calls of every lifecycle event, users, contacts...) in a
fresh database, then drains the job worker in-process (projections + the rule matcher). The rules:
25 on call events with CEL conditions over `data` (each matching about 1% of inbound calls), 15
on other patterns (rarely matching), 10 on missed calls with windows counted in SQL. Matching rules
create pending runs (no executor runs). The issue's target: >= 5,000 events/s per worker with 50
rules; printed with the ratio to no rules (SQLite).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
import uuid
from pathlib import Path

from hookline.assembly import create_runtime, migration_sources
from hookline.automations import rules
from hookline.automations.actions import registry
from hookline.automations.rulefile import parse
from hookline.config import load_settings
from hookline.pipeline import jobs
from hookline.pipeline.worker import Worker
from hookline.providers.aircall.catalog import CATALOG
from hookline.providers.registry import providers
from hookline.store import events as event_log
from hookline.store import migrations
from hookline.store.engine import Database
from hookline.testing.aircall.samples import sample_event
from hookline.types import IncomingEvent

CALL_EVENTS = [e for e in CATALOG if e.startswith("call.")]


def rules_file(n: int = 50) -> str:
    out = []
    for i in range(n):
        if i < 25:
            on, cond = "aircall:call.*", f'data.direction == "inbound" && data.id % 100 == {i}'
        elif i < 40:
            on = ["aircall:user.*", "aircall:contact.*", "calendly:invitee.*"][i % 3]
            cond = f'has(data.email) && data.email.endsWith("@vip{i}.example.com")'
        else:
            on, cond = "aircall:call.ended", "data.missed_call_reason != null"
        window = 'window = { count = 3, seconds = 600, by = "data.user.id" }\n' if i >= 40 else ""
        out.append(f"""[[rules]]
name = "rule-{i:02d}"
on = ["{on}"]
if = '{cond}'
{window}
[[rules.steps]]
action = "alert"
title = "rule {i} on {{{{ data.id }}}}"
""")
    return "\n".join(out)


def bodies(n: int) -> list[dict[str, object]]:
    rng = random.Random(7)
    names = [*CALL_EVENTS * 4, *[e for e in CATALOG if not e.startswith("call.")]]
    base = int(time.time()) - 3600
    return [sample_event(rng.choice(names), rng=random.Random(i), timestamp=base + i // 5) for i in range(n)]


def one_round(url: str, payloads: list[dict[str, object]], with_rules: bool) -> tuple[float, int]:
    db = Database(url)
    migrations.upgrade(db, migration_sources(providers()))
    if with_rules:
        with db.connection() as conn, conn.transaction():
            rules.apply(conn, parse(rules_file(), registry(providers())), prune=False, write=True)
    now = time.time()
    events = [IncomingEvent("aircall", "acme", str(b["event"]), uuid.uuid4().hex, json.dumps(b).encode(), now,
                            occurred_at=float(b["timestamp"])) for b in payloads]
    conn = db.connect()
    try:
        for i in range(0, len(events), 1000):
            event_log.append_batch(conn, events[i:i + 1000], [jobs.enqueue_hook()])
    finally:
        conn.close()
    runtime = create_runtime(load_settings(database_url=url, worker_batch=500), providers())
    worker = Worker(runtime)

    async def drain() -> None:
        while await worker.run_once():
            pass

    started = time.perf_counter()
    asyncio.run(drain())
    took = time.perf_counter() - started
    with db.connection() as c:
        made = int(c.scalar("SELECT count(*) FROM automation_runs"))
    db.close()
    return took, made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    payloads = bodies(args.events)
    results = {}
    for label, with_rules in (("no rules", False), ("50 rules", True), ("no rules again", False)):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"  # a fresh database per round
            took, made = one_round(url, payloads, with_rules)
        results[label] = took
        print(f"{label:16} {args.events / took:8.0f} events/s  ({took:.2f} s, {made} runs created)")
    base = min(results["no rules"], results["no rules again"])
    print(f"50 rules / no rules: {base / results['50 rules']:.2f} of the throughput")


if __name__ == "__main__":
    main()
