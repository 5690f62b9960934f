"""Pipeline benchmark: how fast one worker projects, and the received -> projected lag under load.

1. Throughput. The log is filled with N realistic Aircall events (calls through their lifecycle,
   agents' wrap-up, transcriptions), each with its job; then one worker drains the queue:
     queue only   the worker with no handlers: the claim/complete machinery alone (ceiling)
     hookline     the worker running the Aircall projections, batches of --batch jobs
     baseline     the same projections one event per transaction (a hand-written consumer)
2. Lag. Like `serve`: the group committer and the worker in one process; events are offered at
   --rate per second (open loop, scheduled send times) for --seconds; the lag of each event is
   from its receipt (committer.append) to the commit of its projection.

    python bench/pipeline.py [--events 20000] [--batch 200] [--rate 1000] [--seconds 10] [--skip-pg]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import drop_pg_schema, new_pg_schema  # noqa: E402

from hookline.assembly import create_runtime, migration_sources  # noqa: E402
from hookline.config import load_settings  # noqa: E402
from hookline.pipeline import jobs  # noqa: E402
from hookline.pipeline.handlers import registry  # noqa: E402
from hookline.pipeline.worker import Worker  # noqa: E402
from hookline.providers.aircall.receiver import dedup_key  # noqa: E402
from hookline.providers.registry import providers  # noqa: E402
from hookline.store import events as event_log  # noqa: E402
from hookline.store import migrations  # noqa: E402
from hookline.store.engine import Database  # noqa: E402
from hookline.testing.aircall.samples import make_call, make_number, make_user, sample_event  # noqa: E402
from hookline.types import IncomingEvent  # noqa: E402

STAGES = (("call.created", "initial", 0), ("call.ringing_on_agent", "initial", 2), ("call.answered", "answered", 9),
          ("call.hungup", "done", 200), ("call.ended", "done", 200))


def realistic_events(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """Calls through their lifecycle, the agent's wrap-up after each, a transcription for some."""
    rng = random.Random(seed)
    agents = [make_user(rng, 1000 + i, v2=True) for i in range(20)]
    numbers = [make_number(rng, 500 + i) for i in range(4)]
    out: list[dict[str, Any]] = []
    call_id = 1_900_000_000
    t = 1_732_600_000
    while len(out) < n:
        call_id += 1
        t += rng.randint(1, 5)
        agent = rng.choice(agents)
        call_seed = rng.randint(0, 2**32)
        for event, status, offset in STAGES:
            data = make_call(random.Random(call_seed), call_id, user=agent if offset else None,
                             number=rng.choice(numbers), contact=None, status=status, started_at=t)
            out.append({"resource": "call", "event": event, "timestamp": t + offset, "token": "t", "data": data})
        out.append({"resource": "user", "event": "user.wut_start.v2", "timestamp": t + 201, "token": "t",
                    "data": dict(agent, last_call_id=call_id)})
        out.append({"resource": "user", "event": "user.wut_end.v2", "timestamp": t + 230, "token": "t",
                    "data": dict(agent, last_call_id=call_id)})
        if rng.random() < 0.3:
            out.append(sample_event("transcription.created", rng=rng, timestamp=t + 300, call_id=call_id))
    return out[:n]


def incoming(body: dict[str, Any]) -> IncomingEvent:
    raw = json.dumps(body).encode()
    data = json.dumps(body["data"]).encode()
    return IncomingEvent(
        provider="aircall", account="bench", event=body["event"], body=raw, received_at=time.time(),
        dedup_key=dedup_key(body["event"], body["data"].get("id"), body["timestamp"], data, raw),
        occurred_at=body["timestamp"],
    )


class Engine:
    """A fresh, migrated database of one engine."""

    def __init__(self, name: str, tmp: Path) -> None:
        self.name = name
        self.schema: str | None = None
        if name == "sqlite":
            self.url = f"sqlite:///{tmp / f'bench-{time.monotonic_ns()}.sqlite3'}"
        else:
            self.schema, self.url = new_pg_schema()
        self.db = Database(self.url)
        migrations.upgrade(self.db, migration_sources(providers()))

    def close(self) -> None:
        self.db.close()
        if self.schema:
            drop_pg_schema(self.schema)


def fill(db: Database, bodies: list[dict[str, Any]]) -> None:
    conn = db.connect(writer=True)
    try:
        for start in range(0, len(bodies), 1000):
            event_log.append_batch(conn, [incoming(b) for b in bodies[start : start + 1000]], [jobs.enqueue_hook()])
    finally:
        conn.close()


def drain_rate(engine: str, tmp: Path, bodies: list[dict[str, Any]], batch: int, projections: bool) -> float:
    e = Engine(engine, tmp)
    try:
        fill(e.db, bodies)
        runtime = create_runtime(load_settings(database_url=e.url, worker_batch=batch), providers())
        worker = Worker(runtime, handlers=registry(runtime) if projections else {})

        async def drain() -> int:
            total = 0
            while n := await worker.run_once():
                total += n
            return total

        started = time.perf_counter()
        done = asyncio.run(drain())
        elapsed = time.perf_counter() - started
        assert done == len(bodies), (done, len(bodies))
        if projections:
            with e.db.connection() as conn:
                assert conn.scalar("SELECT count(*) FROM aircall_calls") > 0
        runtime.db.close()
        return done / elapsed
    finally:
        e.close()


def lag(engine: str, tmp: Path, bodies: list[dict[str, Any]], rate: float, batch: int) -> dict[str, float]:
    e = Engine(engine, tmp)
    try:
        runtime = create_runtime(load_settings(database_url=e.url, worker_batch=batch), providers())
        lags: list[float] = []
        worker = Worker(runtime, on_done=lambda claimed, now: lags.extend(now - j.received_at for j in claimed))

        async def run() -> None:
            runtime.committer.start()
            stop = asyncio.Event()
            task = asyncio.create_task(worker.run(stop))
            await asyncio.sleep(0.3)
            events = [incoming(b) for b in bodies]
            loop = asyncio.get_running_loop()
            start = loop.time()
            pending = []
            for i, ev in enumerate(events):
                due = start + i / rate
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                ev.received_at = time.time()
                pending.append(asyncio.ensure_future(runtime.committer.append(ev)))
            await asyncio.gather(*pending)
            deadline = time.monotonic() + 30
            while len(lags) < len(events) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            stop.set()
            await task
            runtime.committer.stop()

        import uvloop

        uvloop.run(run())
        runtime.db.close()
        lags.sort()
        return {
            "events": len(lags),
            "p50_ms": 1000 * lags[len(lags) // 2],
            "p99_ms": 1000 * lags[int(len(lags) * 0.99)],
            "max_ms": 1000 * lags[-1],
            "mean_ms": 1000 * statistics.fmean(lags),
        }
    finally:
        e.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--baseline-events", type=int, default=3_000, help="the one-by-one baseline is slow")
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--skip-pg", action="store_true")
    args = ap.parse_args()

    engines = ["sqlite"] if args.skip_pg else ["sqlite", "postgresql"]
    bodies = realistic_events(args.events)
    offered = realistic_events(int(args.rate * args.seconds), seed=2)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for engine in engines:
            r = {
                "queue_only": drain_rate(engine, tmp, bodies, args.batch, projections=False),
                "hookline": drain_rate(engine, tmp, bodies, args.batch, projections=True),
                "baseline_one_by_one": drain_rate(engine, tmp, bodies[: args.baseline_events], 1, projections=True),
                "lag": lag(engine, tmp, offered, args.rate, args.batch),
            }
            results[engine] = r
            print(f"\n{engine}: one worker, {args.events} events, batch {args.batch}")
            print(f"  queue only (no handlers)        {r['queue_only']:>9,.0f} events/s")
            print(f"  hookline projections            {r['hookline']:>9,.0f} events/s")
            print(f"  baseline: one event per commit  {r['baseline_one_by_one']:>9,.0f} events/s")
            lg = r["lag"]
            print(f"  lag at {args.rate:,.0f} events/s offered for {args.seconds:.0f}s ({lg['events']} events):"
                  f" p50 {lg['p50_ms']:.1f} ms, p99 {lg['p99_ms']:.1f} ms, max {lg['max_ms']:.1f} ms")
    print("\n" + json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
