"""Rule evaluation in the worker: events/s with 50 rules, as a ratio to the same worker with none.

    .venv/bin/python bench/automations.py [--events 20000] [--rounds 3] [--engine sqlite|postgresql]
                                          [--lifecycle] [--profile FILE]

Each round stores the same Aircall events (calls of every lifecycle event, users, contacts...) in a
fresh database, then drains the job worker in-process (projections + the rule matcher). The rules:
25 on call events with CEL conditions over `data` (each matching about 1% of inbound calls), 15
on other patterns (rarely matching), 10 on missed calls with windows counted in SQL. Matching rules
create pending runs (no executor runs). The issue's target: >= 5,000 events/s per worker with 50
rules; printed with the ratio to no rules (SQLite by default; `--engine postgresql`: a fresh schema of
the test database per round).

The rounds alternate (none, 50, none, 50...) and each reports wall time and the process's CPU time
(the worker's threads included): on a shared machine the CPU figure moves far less with the load.
Then the matcher alone (RuleMatcher.apply over the same stored events, batches of 500, CPU time):
what rule evaluation itself costs, apart from the projections the worker also runs.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support import drop_pg_schema, new_pg_schema

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


LIFECYCLE = ("call.created", "call.ringing_on_agent", "call.answered", "call.hungup", "call.ended")


def bodies(n: int, lifecycle: bool = False) -> list[dict[str, object]]:
    """`n` events of every type, calls four times as often as the rest. Each call event is a call of its
    own; with `lifecycle`, a call's five events in a row instead (LIFECYCLE: one insert and four updates
    of its row, as Aircall sends them)."""
    rng = random.Random(7)
    names = [*CALL_EVENTS * 4, *[e for e in CATALOG if not e.startswith("call.")]]
    base = int(time.time()) - 3600
    out: list[dict[str, object]] = []
    i = 0
    while len(out) < n:
        name = rng.choice(names)
        if lifecycle and name.startswith("call."):
            out += [sample_event(e, rng=random.Random(i * 10 + k), timestamp=base + i // 5 + k, id=10_000_000 + i)
                    for k, e in enumerate(LIFECYCLE)]
        else:
            out.append(sample_event(name, rng=random.Random(i), timestamp=base + i // 5))
        i += 1
    return out[:n]


def one_round(url: str, payloads: list[dict[str, object]], with_rules: bool,
              profile: str | None = None) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, runs created) to drain the worker over `payloads`."""
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

    started, cpu = time.perf_counter(), time.process_time()
    if profile:
        cProfile.runctx("asyncio.run(drain())", globals(), {"drain": drain}, profile)
    else:
        asyncio.run(drain())
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    with db.connection() as c:
        made = int(c.scalar("SELECT count(*) FROM automation_runs"))
    db.close()
    return took, cpu, made


def matcher_alone(url: str, payloads: list[dict[str, object]]) -> float:
    """CPU seconds of RuleMatcher.apply over the stored events (50 rules), batches of 500, in transactions."""
    from hookline.automations.matcher import RuleMatcher
    from hookline.pipeline.handlers import load_events

    db = Database(url)
    migrations.upgrade(db, migration_sources(providers()))
    with db.connection() as conn, conn.transaction():
        rules.apply(conn, parse(rules_file(), registry(providers())), prune=False, write=True)
    now = time.time()
    conn = db.connect()
    try:
        ids: list[int] = []
        for i in range(0, len(payloads), 1000):
            batch = [IncomingEvent("aircall", "acme", str(b["event"]), uuid.uuid4().hex, json.dumps(b).encode(), now,
                                   occurred_at=float(b["timestamp"])) for b in payloads[i:i + 1000]]
            ids += [r.id for r in event_log.append_batch(conn, batch)]
        events = load_events(conn, ids)
        matcher = RuleMatcher(create_runtime(load_settings(database_url=url), providers()))
        cpu = time.process_time()
        for i in range(0, len(events), 500):
            with conn.transaction():
                matcher.apply(conn, events[i:i + 500])
        return time.process_time() - cpu
    finally:
        conn.close()
        db.close()


@contextmanager
def fresh_database(engine: str) -> Iterator[str]:
    """A new database per round: a SQLite file in a temporary directory, or a new schema of the
    PostgreSQL test database (HOOKLINE_TEST_PG_URL), dropped after."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        return
    schema, url = new_pg_schema()
    try:
        yield url
    finally:
        drop_pg_schema(schema)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)  # 5,000 lasted a second a round: +-25 %
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each (no rules / 50 rules), alternated")
    parser.add_argument("--profile", help="cProfile the last 50-rule round's worker into this file")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--lifecycle", action="store_true",
                        help="each call's five events in a row (an insert and four updates of its row)")
    args = parser.parse_args()
    payloads = bodies(args.events, args.lifecycle)
    results: dict[str, list[tuple[float, float]]] = {"no rules": [], "50 rules": []}
    for r in range(args.rounds):
        for label in ("no rules", "50 rules"):
            with fresh_database(args.engine) as url:
                profile = args.profile if label == "50 rules" and r == args.rounds - 1 else None
                took, cpu, made = one_round(url, payloads, label == "50 rules", profile)
            results[label].append((took, cpu))
            print(f"round {r + 1} {label:9} {args.events / took:7.0f} events/s wall, {args.events / cpu:7.0f} per CPU"
                  f" second  ({took:.2f} s, {made} runs created)", flush=True)
    wall = {k: statistics.median(t for t, _ in v) for k, v in results.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in results.items()}
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"\nmedians of {args.rounds} ({args.engine}, load {load}):")
    for k in results:
        print(f"  worker, {k:9} {args.events / wall[k]:7.0f} events/s wall, {args.events / cpu[k]:7.0f} per CPU second")
    print(f"  50 rules / no rules: {wall['no rules'] / wall['50 rules']:.2f} of the throughput (wall),"
          f" {cpu['no rules'] / cpu['50 rules']:.2f} (CPU)")
    alone = []
    for _ in range(args.rounds):
        with fresh_database(args.engine) as url:
            alone.append(matcher_alone(url, payloads))
    print(f"  the matcher alone, 50 rules: {args.events / statistics.median(alone):7.0f} events/s per CPU second"
          f" ({statistics.median(alone) / args.events * 1e6:.0f} us an event)")


if __name__ == "__main__":
    main()
