"""A technology partner's hookline: 2,000 installed Aircall accounts.

    .venv/bin/python -m bench.many_accounts [--accounts 2000] [--latency 0.05] [--lookups 200000]

In one process, on a fresh SQLite database: the fake Aircall API with N companies (each with the
default 60 requests/min limit and `--latency` seconds added to every answer, as Aircall is not on
localhost), N accounts installed through `save_install` (the OAuth install's one transaction) with
one webhook each. It measures the receiver's token cache (reload, lookups/s over N tokens) and one
watchdog pass over every account, sequential (concurrency 1, the old loop) against the default
concurrency, in the same run. The issue's ask: a pass over 2,000 accounts that does not make 2,000
sequential API calls, and respects each company's rate limit (one list call per company per pass).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from hookline.assembly import migration_sources
from hookline.providers.aircall.accounts import AccountStore
from hookline.providers.aircall.backfill import DatabaseSink
from hookline.providers.aircall.oauth_install import save_install
from hookline.providers.aircall.tokens import TokenCache
from hookline.providers.aircall.watchdog import CONCURRENCY, Watchdog
from hookline.providers.registry import providers
from hookline.secretbox import SecretBox
from hookline.store import migrations
from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import FakeAircallState, serve_fake_api

PUBLIC = "https://hooks.partner.example"


async def main(n: int, latency: float, lookups: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        migrations.upgrade(db, migration_sources(providers()))
        box = SecretBox(None)
        state = FakeAircallState()
        tokens: list[str] = []
        started = time.perf_counter()
        with db.connection() as conn, conn.transaction():
            for i in range(n):
                company = f"company-{i:05d}"
                acc = state.add_account(company)
                acc.oauth_token = f"oauth-{i:05d}-" + "x" * 24
                hook = state.create_webhook(PUBLIC + "/aircall/webhook", ["call.created"], account=company)
                tokens.append(hook["token"])
                save_install(conn, box, company=company, company_id=str(acc.company_id), integration_id=str(i),
                             access_token=acc.oauth_token, webhook_id=hook["webhook_id"],
                             webhook_token=hook["token"], api_url="unused")
        print(f"{n} accounts installed in {time.perf_counter() - started:.2f} s (one transaction)")

        cache = TokenCache(db, 3600)
        t0 = time.perf_counter()
        cache.reload()
        reload_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        for k in range(lookups):
            assert cache.account_for(tokens[k % n]) is not None
        rate = lookups / (time.perf_counter() - t0)
        print(f"token cache: reload {reload_ms:.1f} ms for {n} tokens; {rate:,.0f} lookups/s")

        runner, url = await serve_fake_api(state)
        state.latency = latency
        try:
            for concurrency in (CONCURRENCY, 1):
                dog = Watchdog(db, AccountStore(db, box), DatabaseSink(db), api_url=url, public_url=PUBLIC,
                               margin=600, max_lookback=3600, concurrency=concurrency)
                before = {name: a.requests for name, a in state.accounts.items()}
                t0 = time.perf_counter()
                report = await dog.run_pass()
                took = time.perf_counter() - t0
                per_company = [a.requests - before[name] for name, a in state.accounts.items()]
                calls, busiest = sum(per_company), max(per_company)
                print(f"watchdog pass, concurrency {concurrency:>2}: {report.accounts} accounts, "
                      f"{report.webhooks_here} webhooks here, {len(report.errors)} errors, {calls} API calls, "
                      f"at most {busiest} per company, {took:.1f} s")
        finally:
            await runner.cleanup()
            db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--lookups", type=int, default=200_000)
    args = parser.parse_args()
    asyncio.run(main(args.accounts, args.latency, args.lookups))
