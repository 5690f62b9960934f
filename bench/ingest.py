"""Ingest benchmark: events/s and acknowledgement latency, four receivers, one run.

  (a) ceiling   raw ASGI app on the same uvicorn settings, reads the body, stores nothing
  (b) baseline  FastAPI + SQLAlchemy, one commit per request (what users write by hand)
  (c) hookline  on SQLite (group commit), receiving only (`serve --no-worker`: jobs are enqueued in
                the same transaction and projected by a `hookline worker` elsewhere)
  (c') hookline on SQLite with the job worker in the same process (projections on the same core)
  (d) hookline  on PostgreSQL, receiving only

Each server is pinned to core 0 and wrk (closed loop, unique events) to core 1. Then an open-loop
generator offers 1,000 events/s to hookline on SQLite and reports p50/p99 acknowledgement latency
measured from each request's scheduled send time (no coordinated omission). With --million, hookline
on SQLite takes 1,000,000 events and its resident memory is read from /proc.

    python bench/ingest.py [--duration 10] [--connections 32] [--rounds 3] [--million] [--skip-pg]

Needs wrk (Debian package) and bench/requirements.txt for the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import drop_pg_schema, free_port, new_pg_schema  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
ADMIN = "bench-admin-token"


def payload_parts() -> tuple[str, str]:
    """A realistic ~1.5 KB call.created body, split around data.id so each request is a new event."""
    body = {
        "resource": "call",
        "event": "call.created",
        "timestamp": 1763900000,
        "token": TOKEN,
        "data": {
            "id": 123456789,
            "direct_link": "https://api.aircall.io/v1/calls/123456789",
            "direction": "inbound",
            "status": "initial",
            "started_at": 1763900000,
            "answered_at": None,
            "ended_at": None,
            "duration": 0,
            "raw_digits": "+33 1 23 45 67 89",
            "user": {"id": 456, "name": "Madeleine Durand", "email": "madeleine@example.com", "available": True},
            "number": {"id": 789, "name": "Paris support", "digits": "+33 1 76 36 06 95", "country": "FR"},
            "contact": {
                "id": 321,
                "first_name": "Jean",
                "last_name": "Martin",
                "company_name": "Acme SAS",
                "phone_numbers": [{"label": "Work", "value": "+33123456789"}],
                "emails": [{"label": "Work", "value": "jean.martin@acme.example"}],
            },
            "teams": [{"id": 12, "name": "Tier 1"}],
            "tags": [],
            "comments": [],
            "archived": False,
            "country_code_a2": "FR",
            "notes": "x" * 600,
        },
    }
    text = json.dumps(body, separators=(",", ":"))
    pre, post = text.split("123456789,", 1)  # the first occurrence is data.id
    return pre, "," + post


def lua_script(path: Path) -> None:
    pre, post = payload_parts()
    path.write_text(
        f"""
local counter = 0
local threads = {{}}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  -- a new id range every run and every thread: each request is a new event, never a duplicate
  base = (os.time() % 10000) * 100000000 + (tid or 1) * 10000000  -- < 1e14: LuaJIT prints it whole
end
request = function()
  counter = counter + 1
  local body = {json.dumps(pre)} .. (base + counter) .. {json.dumps(post)}
  return wrk.format("POST", "/aircall/webhook", {{["Content-Type"] = "application/json"}}, body)
end
"""
    )


def pinned(core: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(core), *argv] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else argv


@contextmanager
def server(kind: str, workdir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path | None]]:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HOOKLINE_ADMIN_TOKEN": ADMIN, "HOOKLINE_LOG_LEVEL": "warning"}
    schema = None
    db_path: Path | None = None
    uvicorn_args = [
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if kind == "ceiling":
        argv = [sys.executable, "-m", "uvicorn", "bench.ceiling_app:app", *uvicorn_args]
    elif kind == "baseline":
        env["BASELINE_DB"] = str(workdir / f"baseline-{port}.db")
        argv = [sys.executable, "-m", "uvicorn", "bench.baseline_fastapi:app", *uvicorn_args]
    else:
        if kind.startswith("hookline-sqlite"):
            db_path = workdir / f"hookline-{port}.sqlite3"
            env["HOOKLINE_DATABASE_URL"] = f"sqlite:///{db_path}"
        else:
            schema, env["HOOKLINE_DATABASE_URL"] = new_pg_schema()
        subprocess.run([sys.executable, "-m", "hookline", "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run(
            [sys.executable, "-m", "hookline", "aircall", "token", "add", TOKEN, "--account", "bench"],
            env=env,
            check=True,
            capture_output=True,
        )
        argv = [sys.executable, "-m", "hookline", "serve", "--port", str(port)]
        if not kind.endswith("+worker"):
            # Receiving only: jobs and deliveries are enqueued in the same transaction, and processed
            # by `hookline worker` elsewhere. "+worker" runs the projections in the same process too.
            argv.append("--no-worker")
            env["HOOKLINE_FORWARDING_DISPATCHER"] = "false"
    proc = subprocess.Popen(pinned(0, argv), env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/healthz", timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield url, proc, db_path
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        if schema:
            drop_pg_schema(schema)


def wrk(url: str, script: Path, duration: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        pinned(1, ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url]),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m[1]) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m[2]]

    return {
        "rps": rps,
        "p50_ms": pct("50"),
        "p99_ms": pct("99"),
        "non2xx": float(non2xx[1]) if non2xx else 0.0,
        "socket_errors": 1.0 if errors else 0.0,
    }


async def open_loop(url: str, rate: int, seconds: float, until: threading.Event | None = None) -> list[float]:
    """Offer `rate` events/s on a fixed schedule; latency counted from the scheduled time. With
    `until`, keep offering after `seconds` until it is set."""
    import aiohttp

    pre, post = payload_parts()
    latencies: list[float] = []
    failures = 0
    start = time.perf_counter() + 0.2
    total = int(rate * seconds)

    async def one(i: int, scheduled: float, session: aiohttp.ClientSession) -> None:
        nonlocal failures
        body = f"{pre}{9_000_000_000 + int(time.time()) * 100_000 + i}{post}".encode()
        async with session.post(url + "/aircall/webhook", data=body, headers={"content-type": "application/json"}) as r:
            await r.read()
            if r.status != 200:
                failures += 1
        latencies.append((time.perf_counter() - scheduled) * 1000)

    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = []
        i = 0
        while i < total or (until is not None and not until.is_set()):
            # Launch each request at its scheduled time; only in-flight requests exist as tasks.
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, scheduled, session)))
            i += 1
        await asyncio.gather(*tasks)
    if failures:
        print(f"  open loop: {failures} non-200 answers")
    return latencies


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3, help="wrk runs per receiver; the median is reported")
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--million", action="store_true", help="also measure RSS after 1,000,000 events")
    ap.add_argument("--skip-pg", action="store_true")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    kinds = ["ceiling", "baseline", "hookline-sqlite", "hookline-sqlite+worker"]
    kinds += [] if args.skip_pg else ["hookline-postgresql"]
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        script = work / "post.lua"
        lua_script(script)
        for kind in kinds:
            runs = []
            with server(kind, work) as (url, _, _):
                wrk(url, script, 2, args.connections)  # warm-up
                for _ in range(args.rounds):
                    runs.append(wrk(url, script, args.duration, args.connections))
            results[kind] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            r = results[kind]
            print(
                f"{kind:22s} {r['rps']:9.0f} events/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms"
                f"  non-2xx {r['non2xx']:.0f}",
                flush=True,
            )

        ceiling, baseline, sqlite = results["ceiling"], results["baseline"], results["hookline-sqlite"]
        full = results["hookline-sqlite+worker"]
        print(f"\nhookline/SQLite with its worker vs ceiling: {full['rps'] / ceiling['rps']:.2f}x")
        print(f"hookline/SQLite vs ceiling:  {sqlite['rps'] / ceiling['rps']:.2f}x  (target >= 0.50)")
        print(f"hookline/SQLite vs baseline: {sqlite['rps'] / baseline['rps']:.2f}x  (target >= 3)")
        if "hookline-postgresql" in results:
            print(f"hookline/PostgreSQL vs ceiling: {results['hookline-postgresql']['rps'] / ceiling['rps']:.2f}x")

        with server("hookline-sqlite", work) as (url, _, _):
            asyncio.run(open_loop(url, args.rate, 1))  # warm-up: connections, caches
            lat = asyncio.run(open_loop(url, args.rate, args.duration))
        lat.sort()
        p50, p99 = lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1]
        print(
            f"\nopen loop {args.rate}/s for {args.duration}s on hookline/SQLite: p50 {p50:.2f} ms  p99 {p99:.2f} ms"
            f"  (target p99 <= 10 ms)"
        )

        if args.million:
            with server("hookline-sqlite", work) as (url, proc, db):
                import sqlite3

                assert db is not None

                while True:
                    lua_script(script)  # fresh id ranges
                    wrk(url, script, 20, args.connections)
                    n = sqlite3.connect(db).execute("SELECT count(*) FROM events").fetchone()[0]
                    print(f"  {n:,} events stored, RSS {rss_mb(proc.pid):.0f} MB", flush=True)
                    if n >= 1_000_000:
                        break
                print(f"RSS after {n:,} events: {rss_mb(proc.pid):.0f} MB (target <= 150 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
