"""Forwarding benchmark: received -> delivered lag to a local destination at a fixed offered rate.

    .venv/bin/python -m bench.forwarding                      # SQLite in a temp dir, 1,000 events/s for 10 s
    .venv/bin/python -m bench.forwarding --rate 2000 --seconds 5
    .venv/bin/python -m bench.forwarding --database-url postgresql://postgres@127.0.0.1:5432/test

It starts `hookline serve` (dispatcher inside) and a sink in its own process, offers Aircall events
open-loop (each sent at its scheduled time, whatever the answers do), waits until the sink has every
event, then reads each event's received_at from the log: lag = sink arrival - received_at.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-forwarding-token-0001"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# -- the sink, in its own process ------------------------------------------------------------------


def run_sink(port: int, out: Path) -> None:
    from aiohttp import web

    arrivals: list[tuple[int, float]] = []

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        arrivals.append((int(request.headers["hookline-event-id"]), time.time()))
        return web.Response(status=204)

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/hook", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        await stop.wait()
        out.write_text(json.dumps(arrivals))
        await runner.cleanup()

    import uvloop

    uvloop.run(main())


# -- the load ---------------------------------------------------------------------------------------


def envelope(i: int, run: str) -> bytes:
    return json.dumps(
        {
            "resource": "call",
            "event": "call.created",
            "timestamp": int(time.time()),
            "token": TOKEN,
            "data": {
                "id": i,
                "direction": "inbound",
                "status": "initial",
                "run": run,
                "raw_digits": "+33 1 23 45 67 89",
            },
        }
    ).encode()


async def offer(url: str, rate: float, seconds: float) -> tuple[int, list[float], int]:
    """Open loop: request i leaves at start + i/rate. Returns (sent, ack latencies, non-2xx answers)."""
    import aiohttp

    run = uuid.uuid4().hex[:8]
    total = int(rate * seconds)
    acks: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:

        async def one(i: int) -> None:
            nonlocal errors
            started = time.perf_counter()
            async with session.post(url, data=envelope(i, run), headers={"content-type": "application/json"}) as r:
                await r.read()
                if r.status != 200:
                    errors += 1
            acks.append(time.perf_counter() - started)

        start = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    return total, acks, errors


# -- orchestration ----------------------------------------------------------------------------------


def dispatcher_metrics(url: str) -> dict[str, float]:
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    values = {
        s.name: s.value
        for family in text_string_to_metric_families(httpx.get(url, timeout=5).text)
        for s in family.samples
    }
    turns = values.get("hookline_dispatcher_turn_seconds_count", 0.0) or 1.0
    return {
        "turns": turns,
        "turn_ms": values.get("hookline_dispatcher_turn_seconds_sum", 0.0) / turns * 1000,
        "claimed_per_turn": values.get("hookline_dispatcher_claimed_total", 0.0) / turns,
    }


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000.0, help="events offered per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to offer them")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    parser.add_argument("--profile", default=None, help="record the server with py-spy into this file (raw format)")
    parser.add_argument("--concurrency", type=int, default=None, help="HOOKLINE_DELIVERY_CONCURRENCY for the server")
    parser.add_argument("--worker", action="store_true", help="dispatch from a separate process, not inside serve")
    parser.add_argument("--destinations", type=int, default=1, help="0 measures ingest alone")
    parser.add_argument("--_sink", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._sink:
        run_sink(int(args._sink[0]), Path(args._sink[1]))
        return

    from hookline.assembly import migration_sources
    from hookline.forwarding.destinations import DestinationStore
    from hookline.providers.aircall.tokens import TokenStore
    from hookline.providers.registry import providers
    from hookline.store import migrations
    from hookline.store.engine import Database

    tmp = Path(tempfile.mkdtemp(prefix="hookline-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'hookline.sqlite3'}"
    schema = None
    if url.startswith("postgresql") and "search_path" not in url:
        import psycopg

        schema = "bench_" + uuid.uuid4().hex[:8]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    db = Database(url)
    migrations.upgrade(db, migration_sources(providers()))
    TokenStore(db).add(TOKEN, "bench")
    sink_port, port = free_port(), free_port()
    for n in range(args.destinations):
        DestinationStore(db).add(f"sink{n}", f"http://127.0.0.1:{sink_port}/hook")

    out = tmp / "arrivals.json"
    sink = subprocess.Popen(
        [sys.executable, "-m", "bench.forwarding", "--_sink", str(sink_port), str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    assert sink.stdout is not None
    sink.stdout.readline()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env.update(HOOKLINE_DATABASE_URL=url, HOOKLINE_ADMIN_TOKEN="bench-admin", HOOKLINE_LOG_LEVEL="warning")
    if args.concurrency:
        env["HOOKLINE_DELIVERY_CONCURRENCY"] = str(args.concurrency)
    worker = None
    if args.worker:
        env["HOOKLINE_FORWARDING_DISPATCHER"] = "false"
        worker = subprocess.Popen(
            [sys.executable, "-m", "hookline", "dispatcher"],
            cwd=ROOT,
            env=env,
            stderr=open(tmp / "worker.log", "wb"),  # noqa: SIM115
        )
    server = subprocess.Popen(
        [sys.executable, "-m", "hookline", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "server.log", "wb"),  # noqa: SIM115
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        if args.profile:
            duration = str(int(args.seconds) + 3)
            pid = str(server.pid)
            profiler = ["py-spy", "record", "--format", "raw", "-o", args.profile, "-d", duration, "-p", pid]
            subprocess.Popen(profiler, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        started = time.time()
        cpu_before = cpu_seconds(server.pid), cpu_seconds(sink.pid), cpu_seconds(worker.pid) if worker else 0.0
        sent, acks, errors = asyncio.run(offer(f"http://127.0.0.1:{port}/aircall/webhook", args.rate, args.seconds))
        offered_for = time.time() - started
        # Wait until every delivery is done (the dispatcher marks them succeeded).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with db.connection() as conn:
                left = conn.scalar("SELECT count(*) FROM deliveries WHERE state <> 'succeeded'")
                made = conn.scalar("SELECT count(*) FROM deliveries")
            if made == (sent - errors) * args.destinations and left == 0:
                break
            time.sleep(0.2)
        cpu_used = (
            cpu_seconds(server.pid) - cpu_before[0],
            cpu_seconds(sink.pid) - cpu_before[1],
            cpu_seconds(worker.pid) - cpu_before[2] if worker else 0.0,
        )
        metrics = dispatcher_metrics(f"http://127.0.0.1:{port}/metrics")
        load = os.getloadavg()[0]
    finally:
        for proc in (server, worker):
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
        sink.send_signal(signal.SIGTERM)
        sink.wait(30)

    arrivals = json.loads(out.read_text())
    if not arrivals:
        print(
            f"offered {sent} events, {errors} non-2xx, ack p50 {statistics.median(acks) * 1000:.1f} ms"
            f" p99 {percentile(acks, 99) * 1000:.1f} ms; nothing delivered; server CPU {cpu_used[0]:.1f} s"
            f" ({cpu_used[0] / sent * 1e6:.0f} us per event); load average {load:.1f}"
        )
        return
    with db.connection() as conn:
        received = dict(conn.fetchall("SELECT id, received_at FROM events"))
    lags = [at - received[event_id] for event_id, at in arrivals if event_id in received]
    firsts: dict[int, float] = {}
    for event_id, at in arrivals:
        firsts.setdefault(event_id, at)
    span = max(at for _, at in arrivals) - min(at for _, at in arrivals)
    ms = 1000
    engine = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"engine {engine}: offered {sent} events at {args.rate:g}/s over {offered_for:.1f} s, {errors} non-2xx")
    print(f"  ack latency   p50 {statistics.median(acks) * ms:.1f} ms  p99 {percentile(acks, 99) * ms:.1f} ms")
    print(
        f"  delivered {len(firsts)} events ({len(arrivals) - len(firsts)} twice); received->delivered lag"
        f" p50 {percentile(lags, 50) * ms:.0f} ms  p90 {percentile(lags, 90) * ms:.0f} ms"
        f"  p99 {percentile(lags, 99) * ms:.0f} ms  max {max(lags) * ms:.0f} ms"
    )
    print(f"  deliveries/s {len(arrivals) / span:.0f} (first to last arrival)")
    if worker is not None:
        print(f"  dispatcher in its own process: CPU {cpu_used[2]:.1f} s")
    else:
        print(
            f"  dispatcher: {metrics['turns']:.0f} turns, mean {metrics['turn_ms']:.1f} ms,"
            f" {metrics['claimed_per_turn']:.1f} deliveries claimed per turn"
        )
    print(
        f"  CPU: server {cpu_used[0]:.1f} s ({cpu_used[0] / sent * 1e6:.0f} us per event received and forwarded),"
        f" sink {cpu_used[1]:.1f} s; machine load average {load:.1f} on {os.cpu_count()} CPUs"
    )
    db.close()
    if schema is not None:
        import psycopg

        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
