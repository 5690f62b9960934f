"""PostgreSQL's monthly partitions of the events table: what they cost.

  ingest     bench/ingest.py's PostgreSQL receiver (`serve --no-worker`, wrk, unique ~1.5 KB events) on the
             one-table log (the code of --old-ref, run from a copy of its src/) and on the partitioned log (this
             tree), alternated round by round; medians and the ratio.
  append     the append statement alone (one transaction per batch of 50, pipelined) on both logs,
             alternated; median microseconds per event and the ratio.
  migration  the event_partitions migration over an unpartitioned log of --events events (~1.5 KB bodies
             over 12 months, filled in SQL), timed, with seconds per million events.

    HOOKLINE_TEST_PG_URL=postgresql://postgres@127.0.0.1:5432/bench_partitions \\
        python bench/partitions.py [--old-ref be66693] [--rounds 5] [--duration 10] [--events 200000]

Needs wrk. Schemas are made (and dropped) in HOOKLINE_TEST_PG_URL's database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import drop_pg_schema, new_pg_schema  # noqa: E402

from bench.ingest import lua_script, server, wrk  # noqa: E402
from hookline.assembly import migration_sources  # noqa: E402
from hookline.providers.registry import providers  # noqa: E402
from hookline.store import events as event_log  # noqa: E402
from hookline.store import migrations  # noqa: E402
from hookline.store.engine import Database  # noqa: E402
from hookline.store.queries import Query  # noqa: E402


def old_src(ref: str, into: Path) -> Path:
    """src/ of the one-table log's commit, extracted (run through PYTHONPATH ahead of this tree's)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def ingest(ref: str, rounds: int, duration: int, connections: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        script = work / "post.lua"
        lua_script(script)
        old = old_src(ref, work / "old")
        variants = {"one table (" + ref + ")": str(old), "partitioned": ""}
        runs: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
        for r in range(rounds):
            for name, path in variants.items():
                saved = os.environ.get("PYTHONPATH")
                os.environ["PYTHONPATH"] = path
                try:
                    with server("hookline-postgresql", work) as (url, _, _):
                        wrk(url, script, 2, connections)  # warm-up
                        result = wrk(url, script, duration, connections)
                finally:
                    os.environ.pop("PYTHONPATH") if saved is None else os.environ.__setitem__("PYTHONPATH", saved)
                runs[name].append(result)
                print(f"round {r + 1} {name:24s} {result['rps']:7.0f} events/s  p50 {result['p50_ms']:6.2f} ms"
                      f"  p99 {result['p99_ms']:6.2f} ms  non-2xx {result['non2xx']:.0f}", flush=True)
        med = {n: {k: statistics.median(x[k] for x in rs) for k in rs[0]} for n, rs in runs.items()}
        (old_name, new_name) = variants
        for n, m in med.items():
            print(f"median {n:24s} {m['rps']:7.0f} events/s  p50 {m['p50_ms']:6.2f} ms  p99 {m['p99_ms']:6.2f} ms")
        print(f"partitioned / one table: {med[new_name]['rps'] / med[old_name]['rps']:.2f}x events/s,"
              f" p50 {med[new_name]['p50_ms'] / med[old_name]['p50_ms']:.2f}x,"
              f" p99 {med[new_name]['p99_ms'] / med[old_name]['p99_ms']:.2f}x")


def append(rounds: int, batches: int, batch: int) -> None:
    """The append statement alone (the receiver's group commit: one transaction per batch, pipelined), on the
    one-table log (the old statement: its SQLite text, which was both engines') and on the partitioned one."""
    every = migration_sources(providers())
    one = Query("append_event", event_log.Q.append_event.sqlite, event_log.Q.append_event.sqlite)
    variants = {"one table": ([s for s in every if s.component != "event_partitions"], one),
                "partitioned": (every, event_log.Q.append_event)}
    schemas, dbs = [], {}
    try:
        for name, (sources, _) in variants.items():
            schema, url = new_pg_schema()
            schemas.append(schema)
            dbs[name] = Database(url)
            migrations.upgrade(dbs[name], sources)
        per_event: dict[str, list[float]] = {n: [] for n in variants}
        serial = 0
        body = b'{"pad": "' + b"x" * 1400 + b'"}'
        for _ in range(rounds):
            for name, (_, query) in variants.items():
                conn = dbs[name].connect()
                try:
                    for _ in range(batches):
                        rows = []
                        for _ in range(batch):
                            serial += 1
                            t = time.time()
                            rows.append(("aircall", "acme", "call.created", "call", str(serial), t, t, f"k{serial}", t,
                                         True, "webhook", "{}", body))
                        started = time.perf_counter()
                        with conn.transaction():
                            conn.fetch_each(query, rows)
                        per_event[name].append((time.perf_counter() - started) / batch * 1e6)
                finally:
                    conn.close()
        med = {n: statistics.median(v) for n, v in per_event.items()}
        for n, m in med.items():
            print(f"append {n:12s} median {m:6.1f} us per event (batches of {batch}, {len(per_event[n])} batches)")
        print(f"append partitioned / one table: {med['partitioned'] / med['one table']:.2f}x")
    finally:
        for d in dbs.values():
            d.close()
        for schema in schemas:
            drop_pg_schema(schema)


FILL = """
INSERT INTO events (provider, account, event, resource, resource_id, occurred_at, received_at, dedup_key,
  duplicate_count, last_seen_at, known, origin, headers, body)
SELECT 'aircall', 'acme', 'call.created', 'call', g::text, t, t, 'k' || g, 0, t, true, 'webhook',
  '{"content-type":"application/json"}', convert_to(repeat(md5(g::text), 46), 'UTF8')
FROM generate_series(%s::bigint, %s::bigint) AS g,
  LATERAL (SELECT %s::float8 - (g %% 365) * 86400.0 - g %% 86400 AS t) AS x
"""


def migration(events: int) -> None:
    schema, url = new_pg_schema()
    try:
        db = Database(url)
        try:
            every = migration_sources(providers())
            migrations.upgrade(db, [s for s in every if s.component != "event_partitions"])
        finally:
            db.close()
        now = time.time()
        with psycopg.connect(url, autocommit=True) as pg:
            for start in range(1, events + 1, 100_000):
                pg.execute(FILL, (start, min(start + 99_999, events), now))
            pg.execute("VACUUM ANALYZE events")
            size = pg.execute("SELECT pg_total_relation_size('events')").fetchone()[0]  # type: ignore[index]
        db = Database(url)
        try:
            started = time.perf_counter()
            ran = migrations.upgrade(db, every)
            took = time.perf_counter() - started
        finally:
            db.close()
        assert [m.component for m in ran] == ["event_partitions"], ran
        with psycopg.connect(url, autocommit=True) as pg:
            parts = pg.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass").fetchone()
        print(f"migration of {events:,} events ({size / 1e6:,.0f} MB, 12 months -> {parts[0]} partitions):"  # type: ignore[index]
              f" {took:.1f} s, {took / events * 1e6:.1f} s per million events")
    finally:
        drop_pg_schema(schema)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old-ref", default="be66693", help="a commit of the one-table log")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--events", type=int, default=200_000, help="events in the migrated log")
    ap.add_argument("--skip-ingest", action="store_true")
    ap.add_argument("--skip-append", action="store_true")
    ap.add_argument("--skip-migration", action="store_true")
    args = ap.parse_args()
    print(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load", os.getloadavg())
    if not args.skip_ingest:
        ingest(args.old_ref, args.rounds, args.duration, args.connections)
    if not args.skip_append:
        append(args.rounds * 2, 40, 50)
    if not args.skip_migration:
        migration(args.events)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
