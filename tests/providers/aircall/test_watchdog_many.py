"""A watchdog pass over many installed accounts (issue 15: a technology partner's 2,000 customers):
never more than the bound in flight at the fake Aircall, and inside `serve` spread over the interval."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from hookline.providers.aircall.accounts import AccountStore
from hookline.providers.aircall.backfill import DatabaseSink
from hookline.providers.aircall.oauth_install import save_install
from hookline.providers.aircall.watchdog import Watchdog
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from tests.providers.aircall.conftest import FakeAircall

PUBLIC = "https://hooks.partner.example"
BOX = SecretBox(None)
N = 24


def install_many(fake: FakeAircall, db: Database, n: int = N) -> list[str]:
    """n companies at the fake, each installed the way the OAuth callback stores it, one webhook each."""

    def seed() -> list[tuple[str, str, dict[str, str]]]:
        made = []
        for i in range(n):
            company = f"company-{i:03d}"
            acc = fake.state.add_account(company, rate_limit=1_000_000)
            acc.oauth_token = f"oauth-{i:03d}-" + "x" * 24
            hook = fake.state.create_webhook(PUBLIC + "/aircall/webhook", ["call.created"], account=company)
            made.append((company, str(acc.company_id), {"id": str(hook["webhook_id"]), "token": hook["token"],
                                                         "access": acc.oauth_token}))
        return made

    names = []
    with db.connection() as conn, conn.transaction():
        for company, company_id, h in fake.call(seed):
            name, _ = save_install(conn, BOX, company=company, company_id=company_id, integration_id=None,
                                   access_token=h["access"], webhook_id=h["id"], webhook_token=h["token"],
                                   api_url=fake.url)
            names.append(name)
    return names


def watchdog(db: Database, fake: FakeAircall, concurrency: int) -> Watchdog:
    return Watchdog(db, AccountStore(db, BOX), DatabaseSink(db), api_url=fake.url, public_url=PUBLIC,
                    margin=600, max_lookback=3600, concurrency=concurrency)


def test_a_pass_has_at_most_the_bound_in_flight(fake_aircall: FakeAircall, db: Database) -> None:
    install_many(fake_aircall, db)
    fake_aircall.state.latency = 0.05  # Aircall is not on localhost: answers take a while

    report = asyncio.run(watchdog(db, fake_aircall, concurrency=4).run_pass())

    assert report.accounts == N and report.webhooks_here == N and not report.errors
    # Concurrent (the sequential loop had 1 in flight), and never past the bound.
    assert 2 <= fake_aircall.state.max_in_flight <= 4
    per_company = {r.account for r in fake_aircall.requests("GET", "/v1/webhooks")}
    assert len(per_company) == N  # every company called, once


def test_a_pass_in_serve_spreads_its_calls_over_the_interval(fake_aircall: FakeAircall, db: Database) -> None:
    install_many(fake_aircall, db)
    # interval 2 s: the 24 starts are spread over min(0.8 * 2, 24 * 0.25) = 1.6 s, with jitter.
    t0 = time.monotonic()
    report = asyncio.run(watchdog(db, fake_aircall, concurrency=16).run_pass(interval=2.0))
    took = time.monotonic() - t0

    assert report.accounts == N and not report.errors
    arrivals = sorted(r.at for r in fake_aircall.requests("GET", "/v1/webhooks"))
    assert len(arrivals) == N
    # Not a burst at the top of the interval: the last start comes late in the window, and no
    # quarter of the window holds more than half the calls (all at once would put them in the first).
    assert arrivals[-1] - arrivals[0] >= 1.0 and took >= 1.2
    quarters = [sum(1 for a in arrivals if t0 + q * 0.4 <= a < t0 + (q + 1) * 0.4) for q in range(4)]
    assert max(quarters) <= N // 2, quarters


def test_first_backfills_after_installs_run_a_few_at_a_time(fake_aircall: FakeAircall, db: Database) -> None:
    """A launch's installs queue their first backfills (kit.backfills): never more than the limit run at once."""
    from hookline.providers.aircall.api import AircallClient, Credentials
    from hookline.providers.aircall.backfill import Backfill
    from hookline.providers.aircall.checkpoints import CheckpointStore
    from hookline.providers.kit.backfills import BackfillQueue

    names = install_many(fake_aircall, db, 6)
    tokens = {name: f"oauth-{i:03d}-" + "x" * 24 for i, name in enumerate(names)}  # as install_many made them
    fake_aircall.state.latency = 0.1
    done: list[str] = []

    async def launch() -> None:
        queue = BackfillQueue(limit=2)
        until = time.time()

        def first_backfill(name: str) -> Callable[[], Awaitable[None]]:  # as the installers start them
            async def run() -> None:
                async with AircallClient(fake_aircall.url, Credentials.oauth(tokens[name], account=name)) as c:
                    await Backfill(c, name, DatabaseSink(db), CheckpointStore(db)).run(until - 3600, until,
                                                                                       ["calls"])
                done.append(name)
            return run

        for name in names:
            queue.start(f"backfill-{name}", first_backfill(name))
        assert len(queue.tasks) == 6
        while queue.tasks:  # finished ones leave the list
            await asyncio.sleep(0.05)

    asyncio.run(launch())
    assert sorted(done) == sorted(names)
    assert 1 <= fake_aircall.state.max_in_flight <= 2  # uncapped, the six would all be in flight together
