"""Ingest A/B: hookline's receiver from several source trees, alternated in one run, medians.

On a shared machine one run of `bench/ingest.py` per commit is not comparable: the load changes
between them. This runs `serve --no-worker` on SQLite from each tree in turn (round 1: A B C, round
2: B C A...), the same open loop as bench/ingest.py (1,000 events/s, latency from each request's
scheduled time) and, with --wrk, wrk's closed loop; then prints each tree's median p50/p99 and
events/s. A tree is a source directory put first on PYTHONPATH (e.g. a `git worktree add` of an
older commit); the venv is this one, so its dependencies must cover every tree's.

    .venv/bin/python bench/ingest_ab.py --tree old=/tmp/wt-48f99ec/src --tree new=src [--rounds 5]
        [--seconds 4] [--rate 1000] [--wrk] [--env NAME=VALUE] [--nice -10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import free_port  # noqa: E402

from bench.ingest import ADMIN, TOKEN, lua_script, open_loop, pinned, wrk  # noqa: E402


def usage(pid: int) -> dict[str, float]:
    """The server's CPU seconds and what it wrote (write() bytes and calls), from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    io = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    return {"cpu": (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK"),
            "wchar": float(io["wchar"]), "syscw": float(io["syscw"])}


@contextmanager
def serve(src: Path, workdir: Path, extra_env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """`hookline serve --no-worker` on a new SQLite file, from the source tree `src`, on core 0."""
    port = free_port()
    db = workdir / f"hookline-{port}.sqlite3"
    env = {
        **os.environ,
        "PYTHONPATH": str(src),
        "PYTHONUNBUFFERED": "1",
        "HOOKLINE_ADMIN_TOKEN": ADMIN,
        "HOOKLINE_LOG_LEVEL": "warning",
        "HOOKLINE_DATABASE_URL": f"sqlite:///{db}",
        "HOOKLINE_FORWARDING_DISPATCHER": "false",
        **extra_env,
    }
    hookline = [sys.executable, "-m", "hookline"]
    subprocess.run([*hookline, "db", "upgrade"], env=env, cwd=workdir, check=True, capture_output=True)
    subprocess.run([*hookline, "aircall", "token", "add", TOKEN, "--account", "bench"],
                   env=env, cwd=workdir, check=True, capture_output=True)
    argv = [*hookline, "serve", "--port", str(port), "--no-worker"]
    proc = subprocess.Popen(pinned(0, argv), env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/healthz", timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", action="append", required=True, help="LABEL=SRC_DIR (repeat)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--wrk", action="store_true", help="also wrk's closed loop (32 connections), events/s")
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for every server")
    ap.add_argument("--dir", default=None, help="where the SQLite files go (e.g. /dev/shm: no disk, no fsync)")
    ap.add_argument("--nice", type=int, default=0,
                    help="run server and client at this niceness (e.g. -10, as root; their autogroup too):"
                    " less of the other load's noise")
    args = ap.parse_args()
    trees = [(label, Path(path).resolve()) for label, path in (t.split("=", 1) for t in args.tree)]
    extra = dict(e.split("=", 1) for e in args.env)
    results: dict[str, list[dict[str, float]]] = {label: [] for label, _ in trees}
    if args.nice:
        os.nice(args.nice)  # the servers inherit it
        # With the kernel's autogroups, niceness only counts within a session: lift this session's group too.
        with contextlib.suppress(OSError):
            Path("/proc/self/autogroup").write_text(str(args.nice))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        script = work / "post.lua"
        dbdir = Path(tempfile.mkdtemp(dir=args.dir)) if args.dir else work
        for r in range(args.rounds):
            order = trees[r % len(trees):] + trees[:r % len(trees)]  # each tree goes first in turn
            for label, src in order:
                with serve(src, dbdir, extra) as (url, pid):
                    asyncio.run(open_loop(url, args.rate, 1))  # warm-up
                    before, used = load(), usage(pid)
                    lat = sorted(asyncio.run(open_loop(url, args.rate, args.seconds)))
                    after, n = usage(pid), len(lat)
                    out = {"p50": lat[len(lat) // 2], "p99": lat[int(len(lat) * 0.99) - 1], "max": lat[-1],
                           "cpu_us": (after["cpu"] - used["cpu"]) / n * 1e6,
                           "wbytes": (after["wchar"] - used["wchar"]) / n,
                           "writes": (after["syscw"] - used["syscw"]) / n}
                    if args.wrk:
                        lua_script(script)  # fresh ids
                        out["rps"] = wrk(url, script, args.seconds, 32)["rps"]
                results[label].append(out)
                extra_txt = f"  wrk {out['rps']:7.0f}/s" if "rps" in out else ""
                print(f"round {r + 1} {label:12s} p50 {out['p50']:6.2f}  p99 {out['p99']:7.2f}"
                      f"  max {out['max']:7.1f} ms"
                      f"  cpu {out['cpu_us']:4.0f} us/event  written {out['wbytes']:5.0f} B/event"
                      f" in {out['writes']:.2f} write()s{extra_txt}  (load {before})", flush=True)
        if args.dir:
            shutil.rmtree(dbdir, ignore_errors=True)
    print(f"\nmedians of {args.rounds} rounds, open loop {args.rate}/s for {args.seconds} s:")
    for label, runs in results.items():
        med = {k: statistics.median(x[k] for x in runs) for k in runs[0]}
        extra_txt = f"  wrk {med['rps']:7.0f} events/s" if "rps" in med else ""
        print(f"  {label:12s} p50 {med['p50']:6.2f} ms  p99 {med['p99']:7.2f} ms  max {med['max']:7.1f} ms"
              f"  cpu {med['cpu_us']:4.0f} us/event  written {med['wbytes']:5.0f} B/event{extra_txt}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
