"""From the 200 of an inbound `call.created` to its insight card arriving at the fake Aircall API.

    .venv/bin/python -m bench.insight_cards [--rate 50] [--seconds 10]
    .venv/bin/python -m bench.insight_cards --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python -m bench.insight_cards --database-url postgresql://... --separate-worker

It starts the fake Aircall API in this process (its rate limit lifted: the bench measures hookline's
path, not Aircall's 60 requests a minute), stores the account, a webhook token and the rule of
docs/automations.md in a fresh database, starts `hookline serve` (the worker and the executor
inside), then offers inbound `call.created` webhooks open-loop at `--rate` per second. For each
call: latency = the card's arrival at the fake - the 200 of its webhook. The issue's target:
p99 <= 500 ms at 50 calls/s on SQLite, and on PostgreSQL with a separate `hookline worker`
(`--separate-worker`: `serve --no-worker` receives, a `hookline worker` process matches and runs the
rule, woken across processes by NOTIFY). On PostgreSQL pass an empty database (or a URL whose
search_path is an empty schema); it is migrated.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.forwarding import percentile
from hookline.assembly import migration_sources
from hookline.automations import rules
from hookline.automations.actions import registry
from hookline.automations.rulefile import parse
from hookline.providers.aircall.accounts import AccountStore
from hookline.providers.aircall.tokens import TokenStore
from hookline.providers.registry import providers
from hookline.secretbox import SecretBox
from hookline.store import migrations
from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import FakeAircallState, serve_fake_api
from hookline.testing.aircall.samples import sample_event

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-insight-cards-token-0001"
RULE = """
[[rules]]
name = "crm-card"
on = ["aircall:call.created"]
if = 'data.direction == "inbound"'

[[rules.steps]]
action = "aircall.insight_card"
title = "Caller {{ data.raw_digits }}"
lines = [{ label = "Plan", text = "Gold" }]
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(url: str, rate: float, seconds: float, separate_worker: bool = False) -> None:
    state = FakeAircallState()
    account = state.add_account("acme", rate_limit=1_000_000)
    runner, api_url = await serve_fake_api(state)
    db = Database(url)
    migrations.upgrade(db, migration_sources(providers()))
    AccountStore(db, SecretBox(None)).add("acme", api_id=account.api_id, api_token=account.api_token)
    TokenStore(db).add(TOKEN, "acme")
    with db.connection() as conn, conn.transaction():
        rules.apply(conn, parse(RULE, registry(providers())), prune=False, write=True)
    db.close()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env.update(HOOKLINE_DATABASE_URL=url, HOOKLINE_AIRCALL_API_URL=api_url, HOOKLINE_ADMIN_TOKEN="bench-admin",
               HOOKLINE_LOG_LEVEL="warning")
    serve = [sys.executable, "-m", "hookline", "serve", "--port", str(port)]
    server = subprocess.Popen([*serve, "--no-worker"] if separate_worker else serve, env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([sys.executable, "-m", "hookline", "worker"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if separate_worker else None
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(base + "/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            total = int(rate * seconds)
            calls = [state.add_call({"direction": "inbound"}, account="acme") for _ in range(total)]
            acked: dict[int, float] = {}

            async def send(call_id: int, at: float) -> None:
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                body = sample_event("call.created", token=TOKEN, id=call_id, direction="inbound")
                async with http.post(base + "/aircall/webhook", json=body) as r:
                    await r.read()
                    if r.status == 200:
                        acked[call_id] = time.time()

            start = time.monotonic() + 0.2
            await asyncio.gather(*(send(c["id"], start + i / rate) for i, c in enumerate(calls)))
            deadline = time.monotonic() + 30
            while len({c for _, kind, c in state.action_log if kind == "insight_card"}) < len(acked):
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
    finally:
        for proc in (server, worker):
            if proc is not None:
                proc.terminate()
                proc.wait(15)
        await runner.cleanup()
    arrived = {c: t for t, kind, c in state.action_log if kind == "insight_card"}
    lags = [arrived[c] - acked[c] for c in acked if c in arrived]
    where = "serve --no-worker + hookline worker" if separate_worker else "serve with its worker"
    print(f"{where}: {len(acked)} calls acknowledged at {rate:g}/s, {len(arrived)} cards arrived"
          f" ({len(state.action_log) - len(arrived)} duplicates)")
    if lags:
        p50, p99 = percentile(lags, 50) * 1000, percentile(lags, 99) * 1000
        print(f"200 -> insight card: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(lags) * 1000:.0f} ms"
              " (target p99 <= 500 ms)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--separate-worker", action="store_true",
                        help="serve --no-worker and a `hookline worker` process (the PostgreSQL deployment)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        asyncio.run(run(url, args.rate, args.seconds, args.separate_worker))


if __name__ == "__main__":
    main()
