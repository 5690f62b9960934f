"""What the per-event analytics rollups (migration 0008) cost the worker.

The pipeline benchmark's events (`bench/pipeline.py` realistic_events: calls through their lifecycle,
a wrap-up pair after each call, a transcription for 30% of calls) plus a sentiment result for 20% of
calls, projected by the Aircall projections in batches of --batch (one transaction each, as the
worker does, without the queue's own work) into a fresh migrated database, with and without
0008's maintenance (its sentiment triggers dropped, the projection's wrap-up rows left out), the
two alternated in the same run. Events per second, medians. With --months: with and without 0010's
month rollups instead (the triggers on the day rollups dropped).

    python bench/rollup_cost.py [--events 20000] [--batch 200] [--rounds 3] [--skip-pg] [--months]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402

from bench.pipeline import Engine, realistic_events  # noqa: E402
from hookline.pipeline.handlers import StoredEvent  # noqa: E402
from hookline.providers.aircall import projections as proj  # noqa: E402
from hookline.testing.aircall.samples import sample_event  # noqa: E402

DROP_0008 = [f"DROP TRIGGER aircall_intelligence_sentiment_{op}" for op in ("insert", "update", "delete")]
MONTHS_OF = ("call_hours", "call_agent_days", "wrap_up_days")
DROP_0010 = {"sqlite": [f"DROP TRIGGER aircall_{t}_months_{op}" for t in MONTHS_OF
                        for op in ("insert", "change", "update", "delete")],
             "postgresql": [f"DROP TRIGGER aircall_{t}_months ON aircall_{t}" for t in MONTHS_OF]}


def bodies(n: int) -> list[dict[str, Any]]:
    rng = random.Random(3)
    out: list[dict[str, Any]] = []
    for body in realistic_events(n):
        out.append(body)
        if body["event"] == "call.ended" and rng.random() < 0.2:
            out.append(sample_event("sentiment.created", rng=rng, timestamp=body["timestamp"] + 60,
                                    call_id=body["data"]["id"]))
    return out


def project(engine: str, tmp: Path, events: list[StoredEvent], batch: int, rollups: bool, months: bool = False
            ) -> float:
    e = Engine(engine, tmp)
    try:
        conn = e.db.connect(writer=True)
        try:
            if not rollups and months:
                for statement in DROP_0010[engine]:
                    conn.execute(statement)
            elif not rollups:
                for statement in DROP_0008:
                    conn.execute(statement + (" ON aircall_call_intelligence" if engine == "postgresql" else ""))
            t0 = time.perf_counter()
            for start in range(0, len(events), batch):
                rows = proj.Rows()
                for ev in events[start : start + batch]:
                    proj.project(ev, rows)
                if not rollups and not months:
                    rows.wrap_ups.clear()
                with conn.transaction():
                    rows.write(conn)
            return len(events) / (time.perf_counter() - t0)
        finally:
            conn.close()
    finally:
        e.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--months", action="store_true", help="measure 0010's month rollups instead of 0008's")
    args = ap.parse_args()
    what = "0010" if args.months else "0008"
    events = [StoredEvent(i + 1, "aircall", "bench", b["event"], "webhook", float(b["timestamp"]),
                          float(b["timestamp"]), msgspec.json.encode(b)) for i, b in enumerate(bodies(args.events))]
    for engine in ("sqlite",) if args.skip_pg else ("sqlite", "postgresql"):
        rates: dict[bool, list[float]] = {False: [], True: []}
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                for rollups in (False, True) if r % 2 == 0 else (True, False):
                    rates[rollups].append(project(engine, Path(tmp), events, args.batch, rollups, args.months))
        without, with_ = statistics.median(rates[False]), statistics.median(rates[True])
        print(f"{engine}: {len(events):,} events, batches of {args.batch}: without {what} {without:,.0f}/s"
              f" {[round(x) for x in rates[False]]}, with {with_:,.0f}/s {[round(x) for x in rates[True]]},"
              f" ratio {with_ / without:.2f}")


if __name__ == "__main__":
    main()
