"""What one group commit of the receiver costs, without HTTP and without the machine's noise.

Runs the committer's own transaction (`append_batch` with the hooks a `serve --no-worker` process
installs: the job enqueue, the forwarding fan-out) on a fresh SQLite file, in batches of a fixed
size, and reports per commit: the pages it adds to the WAL (counted: checkpoints off), the CPU time
of the process, and the wall time. Pages written are what the fsync pays for, and they do not
depend on the load, so two commits' trees can be compared on a busy machine. With --tree, several
source trees are measured in subprocesses, alternated, and --variant switches parts of the
transaction off to price them (--variant LABEL=TREE:VARIANT: no-counts, no-hooks, drop:INDEX).

    .venv/bin/python bench/commit_cost.py --tree old=/tmp/wt-48f99ec/src --tree new=src [--batch 4]
        [--commits 500] [--rounds 3] [--dir /dev/shm] [--variant ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def body_parts() -> tuple[bytes, bytes]:
    sys.path.insert(0, str(ROOT))
    from bench.ingest import payload_parts

    pre, post = payload_parts()
    return pre.encode(), post.encode()


def measure(db_path: Path, batch: int, commits: int, variant: str) -> dict[str, float]:
    """In this process (PYTHONPATH picks the tree): one fresh database, `commits` group commits."""
    import inspect

    from hookline.config import load_settings
    from hookline.runtime import Runtime, migration_sources
    from hookline.store import events as event_log
    from hookline.store import migrations
    from hookline.store.engine import Database
    from hookline.types import IncomingEvent

    # As the committer calls it (newer trees hold the counts back: store/events.py _Pending).
    how = {"defer_counts": True} if "defer_counts" in inspect.signature(event_log.append_batch).parameters else {}
    url = f"sqlite:///{db_path}"
    migrations.upgrade(Database(url), migration_sources())
    runtime = Runtime.create(load_settings(database_url=url, worker=False, forwarding_dispatcher=False))
    hooks = list(runtime.committer.in_transaction)
    if variant == "no-hooks":  # no job row per event (the only hook of `serve --no-worker`)
        hooks = []
    conn = runtime.db.connect(writer=True)
    if variant.startswith("drop:"):  # price one index: drop it
        conn.raw.execute(f"DROP INDEX {variant[5:]}")
    if variant == "no-counts" and hasattr(event_log, "add_to_counts"):
        event_log.add_to_counts = lambda *a, **k: None  # type: ignore[attr-defined]
    conn.raw.execute("PRAGMA wal_autocheckpoint=0")  # the WAL grows by exactly what commits write
    wal = Path(str(db_path) + "-wal")
    page = int(conn.raw.execute("PRAGMA page_size").fetchone()[0])
    now = time.time()
    n = 0
    pre, post = body_parts()

    def batch_of() -> list[IncomingEvent]:
        nonlocal n
        out = []
        for _ in range(batch):
            n += 1
            out.append(IncomingEvent("aircall", "bench", "call.created", f"k{n}", pre + str(n).encode() + post, now,
                                     resource="call", resource_id=str(n), occurred_at=now))
        return out

    for _ in range(20):  # warm-up: statements prepared, tables past their first pages
        event_log.append_batch(conn, batch_of(), hooks, **how)
    wal_before = wal.stat().st_size
    cpu, wall, slowest = time.process_time(), time.perf_counter(), 0.0
    for _ in range(commits):
        events = batch_of()
        t = time.perf_counter()
        event_log.append_batch(conn, events, hooks, **how)
        slowest = max(slowest, time.perf_counter() - t)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    frames = (wal.stat().st_size - wal_before) / (page + 24)
    conn.close()
    return {"pages": frames / commits, "cpu_us": cpu / commits * 1e6, "wall_us": wall / commits * 1e6,
            "max_ms": slowest * 1000}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", action="append", default=[], help="LABEL=SRC_DIR (repeat); default: this tree")
    ap.add_argument("--variant", action="append", default=[],
                    help="LABEL=TREE:VARIANT, VARIANT in no-counts, no-hooks, drop:INDEX")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--commits", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", default=None, help="where the SQLite files go (/dev/shm: no fsync)")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure in this process
    args = ap.parse_args()
    if args.one:
        path, variant = args.one.split(",", 1)
        print(json.dumps(measure(Path(path), args.batch, args.commits, variant)))
        return 0
    trees = {label: Path(p).resolve() for label, p in (t.split("=", 1) for t in args.tree or [f"this={ROOT / 'src'}"])}
    cases = [(label, src, "") for label, src in trees.items()]
    for v in args.variant:
        label, spec = v.split("=", 1)
        tree, variant = spec.split(":", 1)
        cases.append((label, trees[tree], variant))
    results: dict[str, list[dict[str, float]]] = {c[0]: [] for c in cases}
    for r in range(args.rounds):
        for label, src, variant in cases[r % len(cases):] + cases[:r % len(cases)]:
            with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
                out = subprocess.run(
                    [sys.executable, __file__, "--one", f"{Path(tmp) / 'c.sqlite3'},{variant}",
                     "--batch", str(args.batch), "--commits", str(args.commits)],
                    env={**os.environ, "PYTHONPATH": str(src), "HOOKLINE_LOG_LEVEL": "warning"},
                    cwd=tmp, capture_output=True, text=True, check=True,
                ).stdout
            res = json.loads(out.strip().splitlines()[-1])
            results[label].append(res)
            print(f"round {r + 1} {label:14s} {res['pages']:5.2f} pages  cpu {res['cpu_us']:6.0f} us"
                  f"  wall {res['wall_us']:6.0f} us  max {res['max_ms']:6.1f} ms per commit", flush=True)
    print(f"\nmedians, batches of {args.batch} events, {args.commits} commits"
          f" (load {Path('/proc/loadavg').read_text().split()[0]}):")
    for label, runs in results.items():
        med = {k: statistics.median(x[k] for x in runs) for k in runs[0]}
        print(f"  {label:14s} {med['pages']:5.2f} WAL pages  cpu {med['cpu_us']:6.0f} us  wall {med['wall_us']:6.0f} us"
              f"  max {med['max_ms']:6.1f} ms per commit")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
