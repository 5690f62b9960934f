"""Retention and export at scale: export speed and memory, purge speed, and ingest latency with the
retention loop purging vs. idle, in the same run.

    python bench/retention.py [--events 200000] [--posts 2000 | --rate 100 --seconds 20] [--pg]
                              [--compare REV --rounds 3]

1. fills N events received 70 days ago (1.5 KB bodies, finished: no jobs) straight into the log (before
   the month of the 30-day cutoff, which PostgreSQL keeps whole);
2. `hookline export events` as jsonl.gz and as parquet, in subprocesses: seconds, rows/s, bytes,
   peak RSS;
3. `hookline serve` with retention off: POSTs of new webhooks from 8 clients, p50/p99;
4. `hookline serve` with HOOKLINE_RETENTION_EVENTS_DAYS=30: the same POSTs while the loop purges the
   N old events, p50/p99, then how long the whole purge took.

With `--compare REV` steps 1, 3 and 4 are repeated `--rounds` times for this tree's code (or `--new
REV2`'s) and for the code of git revision REV (its `src/`, first on PYTHONPATH of the server),
alternating which goes first, and the medians are printed at the end. `--pg` uses
HOOKLINE_BENCH_PG_URL (a fresh schema).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if "HOOKLINE_BENCH_PG_URL" in os.environ:  # tests.support's schemas, in the bench's own database
    os.environ["HOOKLINE_TEST_PG_URL"] = os.environ["HOOKLINE_BENCH_PG_URL"]

import httpx
from tests.support import ROOT, Server, base_env, drop_pg_schema, new_pg_schema

from bench.ingest import TOKEN as OPEN_LOOP_TOKEN
from bench.ingest import open_loop
from hookline.assembly import migration_sources
from hookline.providers.aircall.tokens import TokenStore
from hookline.providers.registry import providers
from hookline.store import events as event_log
from hookline.store import migrations
from hookline.store.engine import Database
from hookline.types import IncomingEvent

TOKEN = "bench-retention-token-0001"
DAY = 86400.0
MAXRSS = (
    "import atexit, resource, sys; "
    "atexit.register(lambda: sys.stderr.write(f'maxrss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n')); "
    "from hookline.cli import main; sys.argv = ['hookline', *sys.argv[1:]]; main()"
)


def body(i: int, ts: float) -> bytes:
    data = {"id": i, "direction": "inbound", "status": "done", "started_at": int(ts), "duration": 42,
            "raw_digits": "+33 1 23 45 67 89", "user": {"id": 7, "name": "Agent Seven", "email": "a7@example.com"},
            "number": {"id": 3, "digits": "+33 1 00 00 00 00", "name": "Support"}, "tags": [], "comments": [],
            "pad": "x" * 900}
    envelope = {"resource": "call", "event": "call.ended", "timestamp": int(ts), "token": "t", "data": data}
    return json.dumps(envelope).encode()


def fill(db: Database, n: int, month_partition: bool = False) -> None:
    """N finished events received 70 days ago. With `month_partition` (PostgreSQL), their month gets its
    partition first, as every month has in a running deployment (else they go to the default partition,
    which retention deletes row by row)."""
    t0 = time.time() - 70 * DAY
    conn = db.connect()
    try:
        if month_partition:
            conn.execute("SELECT hookline_event_partition(to_timestamp(?))", (t0,))
        for start in range(0, n, 2000):
            batch = [
                IncomingEvent(provider="aircall", account="acme", event="call.ended", body=body(i, t0 + i),
                              received_at=t0 + i * 0.5, dedup_key=f"bench-{i}", occurred_at=t0 + i, resource="call",
                              resource_id=str(i))
                for i in range(start, min(n, start + 2000))
            ]
            event_log.append_batch(conn, batch)
        if db.dialect == "sqlite":  # the fill's WAL written back now, not during the first measurement
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def cli(url: str, *args: str) -> tuple[float, int]:
    started = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", MAXRSS, *args], env=base_env(url), capture_output=True, text=True,
                       cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    rss = int(r.stderr.rsplit("maxrss_kb=", 1)[1].split()[0])
    return time.perf_counter() - started, rss


def posts(server: Server, n: int, offset: int) -> list[float]:
    latencies: list[float] = []

    def post(i: int) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            for j in range(i, n, 8):
                envelope = {"resource": "call", "event": "call.created", "timestamp": 1_763_900_000 + j,
                            "token": TOKEN, "data": {"id": offset + j, "direction": "inbound", "status": "initial"}}
                started = time.perf_counter()
                r = c.post("/aircall/webhook", json=envelope)
                latencies.append(time.perf_counter() - started)
                assert r.status_code == 200, r.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(post, range(8)))
    return sorted(latencies)


def ingest(server: Server, args: argparse.Namespace, offset: int, db: Database | None = None) -> list[float]:
    """Latencies (s, sorted) of webhooks posted to `server`: `--posts` from 8 clients as fast as they
    go, or with `--rate`, an open loop at that rate for `--seconds` (and, given `db`, on until its old
    events are all purged)."""
    if not args.rate:
        return posts(server, args.posts, offset)
    done = threading.Event()
    if db is not None:
        def watch() -> None:
            while old_left(db):
                time.sleep(0.25)
            done.set()
        threading.Thread(target=watch, daemon=True).start()
    else:
        done.set()
    return sorted(ms / 1000 for ms in asyncio.run(open_loop(server.url, args.rate, args.seconds, done)))


def purge_env(args: argparse.Namespace) -> dict[str, str]:
    """Retention on: events older than 30 days, with the bench's batch settings."""
    env = {"HOOKLINE_RETENTION_EVENTS_DAYS": "30", "HOOKLINE_RETENTION_BATCH_SIZE": args.batch,
           "HOOKLINE_RETENTION_PAUSE_SECONDS": args.pause}
    if args.batch_seconds is not None:
        env["HOOKLINE_RETENTION_BATCH_SECONDS"] = args.batch_seconds
    return env


def pct(values: list[float], q: float) -> float:
    """The q-quantile, in ms."""
    return values[min(len(values) - 1, int(len(values) * q))] * 1000


def old_left(db: Database) -> int:
    with db.connection() as conn:
        return int(conn.scalar("SELECT count(*) FROM events WHERE received_at < ?", (time.time() - 30 * DAY,)))


def checkout(rev: str, into: Path) -> Path:
    """REV's src/ extracted under `into`; returns the directory to put first on PYTHONPATH."""
    tar = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(into, filter="data")
    return into / "src"


def round_(db: Database, url: str, args: argparse.Namespace, logs: Path, name: str, extra: dict[str, str],
           offset: int) -> dict[str, float]:
    """Fill, ingest with retention off, then ingest while `name`'s code purges; returns the numbers."""
    fill(db, args.events, args.month_partition)
    server = Server(url, logs / f"{name}-idle.log", {}, (), 0, None).start()
    idle = ingest(server, args, offset)
    server.stop()
    env = {**purge_env(args), **extra}
    purger = None
    if env.pop("BENCH_PURGE_IN_WORKER", None):  # serve without retention; a `hookline worker` purges
        server = Server(url, logs / f"{name}-purging.log", extra, (), 0, None).start()
        with (logs / f"{name}-worker.log").open("ab") as log:
            purger = subprocess.Popen([sys.executable, "-m", "hookline", "worker"], env=base_env(url, env),
                                      stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    else:
        server = Server(url, logs / f"{name}-purging.log", env, (), 0, None).start()
    purge_started = time.perf_counter()
    before = old_left(db)
    busy = ingest(server, args, offset + 500_000, db)
    after = old_left(db)
    while old_left(db):
        time.sleep(0.2)
    purge = time.perf_counter() - purge_started
    server.stop()
    if purger is not None:
        purger.terminate()
        purger.wait(15)
    q = {"idle_p50": pct(idle, 0.5), "idle_p99": pct(idle, 0.99), "busy_p50": pct(busy, 0.5),
         "busy_p99": pct(busy, 0.99), "purge_s": purge}
    print(f"{name:4}: {len(idle)}/{len(busy)} posts, ingest idle p50 {q['idle_p50']:.1f}"
          f" p99 {q['idle_p99']:.1f} ms | while purging p50"
          f" {q['busy_p50']:.1f} p99 {q['busy_p99']:.1f} ms (old events {before:,} -> {after:,} meanwhile)"
          f" | purge of {args.events:,}: {purge:.1f}s, {args.events / purge:,.0f} rows/s", flush=True)
    return q


def compare(db: Database, url: str, args: argparse.Namespace, tmp: Path) -> None:
    old_src = checkout(args.compare, tmp / "old")
    new = {"PYTHONPATH": str(checkout(args.new, tmp / "new"))} if args.new else {}
    new.update(kv.split("=", 1) for kv in args.new_env)
    if args.new_purge_in_worker:
        new["BENCH_PURGE_IN_WORKER"] = "1"
    variants = {"new": new, "old": {"PYTHONPATH": str(old_src)}}
    logs = tmp / "logs"
    logs.mkdir()
    results: dict[str, list[dict[str, float]]] = {"new": [], "old": []}
    offset = 1_000_000
    for r in range(args.rounds):
        order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
        for name in order:
            results[name].append(round_(db, url, args, logs, name, variants[name], offset))
            offset += 1_000_000
    print(f"medians of {args.rounds} rounds ({db.dialect}, {args.events:,} events, {args.posts} posts):")
    for name, rows in results.items():
        m = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        print(f"{name:4}: idle p50/p99 {m['idle_p50']:.1f}/{m['idle_p99']:.1f} ms, purging p50/p99"
              f" {m['busy_p50']:.1f}/{m['busy_p99']:.1f} ms (p99 x{m['busy_p99'] / m['idle_p99']:.2f}),"
              f" purge {m['purge_s']:.1f}s ({args.events / m['purge_s']:,.0f} rows/s)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--posts", type=int, default=2000)
    ap.add_argument("--batch", default="1000", help="HOOKLINE_RETENTION_BATCH_SIZE")
    ap.add_argument("--pause", default="0.05", help="HOOKLINE_RETENTION_PAUSE_SECONDS")
    ap.add_argument("--batch-seconds", default=None, help="HOOKLINE_RETENTION_BATCH_SECONDS (default: the code's)")
    ap.add_argument("--skip-export", action="store_true")
    ap.add_argument("--pg", action="store_true", help="PostgreSQL (HOOKLINE_BENCH_PG_URL) instead of SQLite")
    ap.add_argument("--compare", metavar="REV", help="alternate this tree's purge with git revision REV's")
    ap.add_argument("--new", metavar="REV", help="with --compare: REV's code instead of this tree's")
    ap.add_argument("--new-env", action="append", default=[], metavar="NAME=VALUE",
                    help="with --compare: an environment variable for the new variant's server only")
    ap.add_argument("--new-purge-in-worker", action="store_true",
                    help="with --compare: the new variant's serve runs no retention, a `hookline worker` purges")
    ap.add_argument("--month-partition", action="store_true",
                    help="PostgreSQL: the old events' month gets its partition (the month path) instead of the default")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=int, default=0,
                    help="post at this many events/s (open loop) instead of --posts as fast as 8 clients go")
    ap.add_argument("--seconds", type=float, default=20.0,
                    help="with --rate: seconds of posting with retention idle, and at least while purging")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-retention-"))
    schema = None
    if args.pg:
        schema, url = new_pg_schema()
    else:
        url = f"sqlite:///{tmp / 'hookline.sqlite3'}"
    db = Database(url)
    try:
        migrations.upgrade(db, migration_sources(providers()))
        TokenStore(db).add(TOKEN, "acme")
        TokenStore(db).add(OPEN_LOOP_TOKEN, "acme")
        if args.compare:
            compare(db, url, args, tmp)
            return
        started = time.perf_counter()
        fill(db, args.events, args.month_partition)
        print(f"engine {db.dialect}: filled {args.events:,} events in {time.perf_counter() - started:.1f}s")
        for fmt in () if args.skip_export else ("jsonl.gz", "parquet"):
            out = tmp / f"export-{fmt}"
            seconds, rss = cli(url, "export", "events", "--format", fmt, "--output", str(out))
            size = sum(p.stat().st_size for p in (out / "events").rglob("*") if p.is_file())
            print(f"export {fmt:8}: {seconds:6.1f}s  {args.events / seconds:8,.0f} rows/s  {size / 1e6:7.1f} MB"
                  f"  ({size / args.events:.0f} B/event)  peak RSS {rss / 1024:.0f} MB")
        logs = tmp / "logs"
        logs.mkdir()
        server = Server(url, logs / "idle.log", {}, (), 0, None).start()
        idle = ingest(server, args, 1_000_000)
        server.stop()
        print(f"ingest, retention idle   : {len(idle)} posts  p50 {pct(idle, 0.5):.1f} ms"
              f"  p99 {pct(idle, 0.99):.1f} ms")
        env = purge_env(args)
        server = Server(url, logs / "purging.log", env, (), 0, None).start()
        purge_started = time.perf_counter()
        size_mb = f"{db.url.path.stat().st_size / 1e6:.1f}" if db.url.path else "?"
        before = old_left(db)
        busy = ingest(server, args, 2_000_000, db)
        after = old_left(db)
        print(f"ingest, retention purging: {len(busy)} posts  p50 {pct(busy, 0.5):.1f} ms  p99 {pct(busy, 0.99):.1f} ms"
              f"  (old events {before:,} -> {after:,} meanwhile)")
        while old_left(db):
            time.sleep(0.2)
        print(f"purge of {args.events:,} events (batch {args.batch}, pause {args.pause} s):"
              f" {time.perf_counter() - purge_started:.1f}s")
        if db.dialect == "sqlite":
            assert db.url.path is not None
            with db.connection() as conn:
                while conn.scalar("PRAGMA freelist_count"):
                    time.sleep(0.2)
            print(f"SQLite file once vacuumed: {size_mb} MB -> {db.url.path.stat().st_size / 1e6:.1f} MB"
                  f" after {time.perf_counter() - purge_started:.1f}s")
        server.stop()
    finally:
        db.close()
        if schema:
            drop_pg_schema(schema)


if __name__ == "__main__":
    main()
