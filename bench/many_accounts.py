"""A technology partner's hookline: 2,000 installed Aircall accounts and 2,000 Calendly organizations.

    .venv/bin/python -m bench.many_accounts [--accounts 2000] [--latency 0.05] [--lookups 200000]
        [--rounds 3] [--before-rounds 1] [--engines sqlite,postgresql]

For each engine (SQLite in a temporary file; PostgreSQL in a fresh schema of HOOKLINE_BENCH_PG_URL,
default the tests' database, dropped afterwards), in one process: the fake Aircall API with N
companies (each at the default 60 requests/min) and the fake Calendly with N OAuth organizations,
`--latency` seconds added to every answer of both (neither is on localhost); N accounts of each
installed through their OAuth install's `save_install`, with one webhook / subscription each. It
measures the receiver's token cache over N Aircall tokens, then one watchdog pass over every account
of each provider: before (one account after another, concurrency 1: the old loops) and after
(kit.watchdog.for_each with its default bound), in the same run, medians of the rounds. The passes
here are not spread over an interval (inside `serve` they are, over 80% of it): this is how long the
work takes, and how many calls are in flight at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import psycopg
from aiohttp import web

from hookline.assembly import migration_sources
from hookline.oauth.exchange import Grant
from hookline.providers.aircall.accounts import AccountStore
from hookline.providers.aircall.backfill import DatabaseSink
from hookline.providers.aircall.oauth_install import save_install as save_aircall
from hookline.providers.aircall.tokens import TokenCache
from hookline.providers.aircall.watchdog import Watchdog
from hookline.providers.calendly.oauth_install import events as calendly_events
from hookline.providers.calendly.oauth_install import save_install as save_calendly
from hookline.providers.calendly.settings import CalendlySettings
from hookline.providers.calendly.watchdog import check_all
from hookline.providers.kit.watchdog import CONCURRENCY
from hookline.providers.registry import providers
from hookline.secretbox import SecretBox
from hookline.store import migrations
from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import FakeAircallState, serve_fake_api
from hookline.testing.calendly.fake_api import FakeCalendly, Subscription

PUBLIC = "https://hooks.partner.example"
PG_URL = os.environ.get("HOOKLINE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BOX = SecretBox(None)


@contextlib.contextmanager
def database(engine: str) -> Iterator[Database]:
    """A migrated, empty database of `engine`, removed afterwards."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
            try:
                migrations.upgrade(db, migration_sources(providers()))
                yield db
            finally:
                db.close()
        return
    schema = "bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    db = Database(PG_URL + ("&" if "?" in PG_URL else "?") + f"options=-csearch_path%3D{schema}")
    try:
        migrations.upgrade(db, migration_sources(providers()))
        yield db
    finally:
        db.close()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def install_aircall(db: Database, state: FakeAircallState, n: int, api_url: str) -> list[str]:
    tokens = []
    with db.connection() as conn, conn.transaction():
        for i in range(n):
            company = f"company-{i:05d}"
            acc = state.add_account(company)
            acc.oauth_token = f"oauth-{i:05d}-" + "x" * 24
            hook = state.create_webhook(PUBLIC + "/aircall/webhook", ["call.created"], account=company)
            tokens.append(hook["token"])
            save_aircall(conn, BOX, company=company, company_id=str(acc.company_id), integration_id=str(i),
                         access_token=acc.oauth_token, webhook_id=hook["webhook_id"], webhook_token=hook["token"],
                         api_url=api_url)
    return tokens


def install_calendly(db: Database, fake: FakeCalendly, n: int) -> None:
    """N organizations that installed the app: a token each, one organization-scope subscription each."""
    now = time.time()
    with db.connection() as conn, conn.transaction():
        for i in range(n):
            org = f"org-{i:05d}"
            fake.add_org(org)
            token = f"cal-at-bench-{i:05d}-" + "x" * 16
            fake.access_tokens[token] = (org, now + 86400)
            sub = Subscription(uuid=uuid.uuid4().hex.upper(), url=PUBLIC + "/calendly/webhook",
                               events=calendly_events(), scope="organization", organization=fake.org_uri(org),
                               user=None, creator=fake.org_user_uri(org), signing_key=None, created_at=now)
            fake.subscriptions[sub.uuid] = sub
            save_calendly(conn, BOX, label=org, org_uri=fake.org_uri(org), user_uri=fake.org_user_uri(org),
                          grant=Grant(token, "cal-rt-unused", now + 86400), api_url=fake.base_url,
                          subscription_uri=f"{fake.base_url}/webhook_subscriptions/{sub.uuid}",
                          callback_url=sub.url)


async def timed(run: Callable[[], Awaitable[tuple[int, int] | None]]) -> tuple[float, int, int]:
    """(seconds, accounts, errors) of one pass. The PostgreSQL advisory lock of a pass is per database,
    not per schema: while another process (a test suite on the same database) holds it, the pass is
    skipped; it is tried again, and only the pass that ran is timed."""
    for _ in range(600):
        t0 = time.perf_counter()
        done = await run()
        if done is not None:
            return time.perf_counter() - t0, done[0], done[1]
        await asyncio.sleep(0.1)
    raise SystemExit("another process held the watchdog's lock for a minute")


async def bench_engine(engine: str, n: int, latency: float, lookups: int, rounds: int, before_rounds: int) -> None:
    with database(engine) as db:
        aircall = FakeAircallState()
        runner, aircall_url = await serve_fake_api(aircall)
        calendly = FakeCalendly()
        cal_runner = web.AppRunner(calendly.app())
        await cal_runner.setup()
        site = web.TCPSite(cal_runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        calendly.base_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        try:
            started = time.perf_counter()
            tokens = install_aircall(db, aircall, n, aircall_url)
            install_calendly(db, calendly, n)
            print(f"[{engine}] {n} Aircall + {n} Calendly installs in {time.perf_counter() - started:.2f} s "
                  "(one transaction each provider)")
            cache = TokenCache(db, 3600)
            t0 = time.perf_counter()
            cache.reload()
            reload_ms = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            for k in range(lookups):
                assert cache.account_for(tokens[k % n]) is not None
            rate = lookups / (time.perf_counter() - t0)
            print(f"[{engine}] token cache: reload {reload_ms:.1f} ms for {n} tokens; {rate:,.0f} lookups/s")

            aircall.latency = calendly.latency = latency

            async def aircall_pass(concurrency: int) -> tuple[int, int] | None:
                dog = Watchdog(db, AccountStore(db, BOX), DatabaseSink(db), api_url=aircall_url, public_url=PUBLIC,
                               margin=600, max_lookback=3600, concurrency=concurrency)
                report = await dog.run_pass()
                return None if report.skipped else (report.accounts, len(report.errors))

            async def calendly_pass(concurrency: int) -> tuple[int, int] | None:
                reports = await check_all(db, CalendlySettings(api_url=calendly.base_url), BOX,
                                          concurrency=concurrency)
                return None if reports is None else (len(reports), sum(1 for r in reports if r.errors))

            fakes: dict[str, FakeAircallState | FakeCalendly] = {"aircall": aircall, "calendly": calendly}
            passes = {"aircall": aircall_pass, "calendly": calendly_pass}
            for provider, one_pass in passes.items():
                fake = fakes[provider]
                for label, concurrency, count in (("after", CONCURRENCY, rounds), ("before", 1, before_rounds)):
                    took, in_flight = [], []
                    for _ in range(count):
                        fake.max_in_flight = 0
                        seconds, accounts, errors = await timed(lambda: one_pass(concurrency))  # noqa: B023
                        took.append(seconds)
                        in_flight.append(fake.max_in_flight)
                        assert accounts == n and errors == 0, (provider, accounts, errors)
                    median = statistics.median(took)
                    print(f"[{engine}] {provider:8} {label:6} concurrency {concurrency:>2}: median {median:6.1f} s"
                          f" over {count} pass(es) (min {min(took):.1f}, max {max(took):.1f}), {n / median:6.0f}"
                          f" accounts/s, at most {max(in_flight)} requests in flight")
        finally:
            await cal_runner.cleanup()
            await runner.cleanup()


async def main(args: argparse.Namespace) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; {args.accounts} accounts, {args.latency * 1000:.0f} ms "
          "added to each answer")
    for engine in args.engines.split(","):
        await bench_engine(engine, args.accounts, args.latency, args.lookups, args.rounds, args.before_rounds)
    print(f"load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--lookups", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3, help="passes after (bounded concurrency); the median")
    parser.add_argument("--before-rounds", type=int, default=1, help="passes before (sequential: slow)")
    parser.add_argument("--engines", default="sqlite,postgresql")
    asyncio.run(main(parser.parse_args()))
