"""The watchdog recreates disabled subscriptions and backfills the gap, from the CLI and inside serve."""

from __future__ import annotations

import json
import time

from hookline.providers.api_retry import DEFAULT_RULES
from hookline.providers.calendly.accounts import AccountStore
from hookline.providers.calendly.keys import KeyStore
from hookline.providers.calendly.subscriptions import SubscriptionStore
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from hookline.testing.calendly.fake_api import DEFAULT_TOKEN, FakeCalendly
from tests.providers.fake_server import RunningApp
from tests.support import Server, run_cli

BOX = SecretBox(None)  # the servers and CLIs of these tests run without HOOKLINE_SECRET_KEY


def manage(db: Database, fake: FakeCalendly, running: RunningApp, url: str) -> str:
    """An account and one managed subscription, created at the fake the way the CLI does."""
    AccountStore(db, BOX).add("acme", DEFAULT_TOKEN, fake.user_uri, fake.organization_uri)
    result = run_cli(
        "calendly", "subscriptions", "create", "--url", url, database_url=db.url.url,
        env={"HOOKLINE_CALENDLY_API_URL": running.url},
    )
    assert result.returncode == 0, result.stderr
    (managed,) = SubscriptionStore(db).all()
    assert managed.key_id is not None and KeyStore(db, BOX).secret(managed.key_id) is not None
    return managed.uuid


def synced(db: Database) -> list[tuple]:
    with db.connection() as conn:
        return conn.fetchall(
            "SELECT account, event, origin, resource_id, body FROM events WHERE origin = 'backfill' ORDER BY id"
        )


def test_watchdog_once_recreates_and_backfills_the_gap(
    db: Database, database_url: str, fake_calendly: tuple[FakeCalendly, RunningApp]
) -> None:
    fake, running = fake_calendly
    env = {"HOOKLINE_CALENDLY_API_URL": running.url}
    before = fake.add_booking("Before Gap", created_at=time.time() - 3600)  # delivered long ago
    old_uuid = manage(db, fake, running, "https://hooks.example/calendly/webhook")
    old_key = fake.subscriptions[old_uuid].signing_key
    # hookline was down: deliveries failed until Calendly disabled the subscription.
    in_gap = fake.add_booking("Ann In-Gap")
    running.call(fake.deliver("invitee.created", in_gap))
    canceled = fake.add_booking("Bob Canceled")
    fake.cancel(canceled["uri"])
    fake.disable(old_uuid)

    out = run_cli("calendly", "watchdog", "--once", database_url=database_url, env=env)
    assert out.returncode == 0, out.stderr
    assert f"subscription {old_uuid} recreated" in out.stdout and "2 events backfilled" in out.stdout
    (new,) = fake.subscriptions.values()
    assert new.uuid != old_uuid and new.state == "active" and new.signing_key == old_key
    assert new.url == "https://hooks.example/calendly/webhook" and new.scope == "user"
    (managed,) = SubscriptionStore(db).all()
    assert managed.uuid == new.uuid and managed.state == "active"
    rows = synced(db)
    assert {(r[0], r[1], r[2]) for r in rows} == {("acme", "invitee.synced", "backfill")}
    assert {r[3] for r in rows} == {in_gap["uri"], canceled["uri"]}  # not `before`: it predates the gap
    assert before["uri"] not in {r[3] for r in rows}
    bodies = {json.loads(bytes(r[4]))["payload"]["name"]: json.loads(bytes(r[4]))["payload"] for r in rows}
    assert bodies["Bob Canceled"]["status"] == "canceled"
    assert bodies["Ann In-Gap"]["scheduled_event"]["uri"] == in_gap["event"]

    again = run_cli("calendly", "watchdog", "--once", database_url=database_url, env=env)
    assert again.returncode == 0 and "0 recreated, 0 events backfilled" in again.stdout
    assert len(synced(db)) == 2


def test_serve_runs_the_watchdog_in_the_background(
    db: Database, start_server, fake_calendly: tuple[FakeCalendly, RunningApp]
) -> None:
    fake, running = fake_calendly
    server: Server = start_server(
        env={"HOOKLINE_CALENDLY_API_URL": running.url, "HOOKLINE_CALENDLY_WATCHDOG_INTERVAL_SECONDS": "1"}
    )
    old_uuid = manage(db, fake, running, server.url + "/calendly/webhook")
    fake.disable(old_uuid)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (old_uuid in fake.subscriptions or not fake.subscriptions):
        time.sleep(0.2)
    (new,) = fake.subscriptions.values()
    assert new.uuid != old_uuid and new.state == "active"
    # The recreated subscription delivers, signed with the same stored key, and hookline accepts it.
    payload = fake.add_booking("After Repair")
    assert running.call(fake.deliver("invitee.created", payload)) == [200]
    server.stop()
    assert DEFAULT_TOKEN not in server.log()


def test_one_watchdog_at_a_time_on_postgresql(
    db: Database, engine: str, database_url: str, fake_calendly: tuple[FakeCalendly, RunningApp]
) -> None:
    fake, running = fake_calendly
    old_uuid = manage(db, fake, running, "https://hooks.example/calendly/webhook")
    fake.disable(old_uuid)
    env = {"HOOKLINE_CALENDLY_API_URL": running.url}
    if engine == "postgresql":
        with db.once_per_database(728_115_101) as mine:  # another `serve` checking right now
            assert mine
            skipped = run_cli("calendly", "watchdog", "--once", database_url=database_url, env=env)
            assert skipped.returncode == 0 and "another hookline process" in skipped.stdout
            assert set(fake.subscriptions) == {old_uuid}
    done = run_cli("calendly", "watchdog", "--once", database_url=database_url, env=env)
    assert done.returncode == 0 and ", 1 recreated," in done.stdout
    assert old_uuid not in fake.subscriptions


def test_a_failed_backfill_is_tried_again_next_round(
    db: Database, database_url: str, fake_calendly: tuple[FakeCalendly, RunningApp]
) -> None:
    fake, running = fake_calendly
    env = {"HOOKLINE_CALENDLY_API_URL": running.url}
    old_uuid = manage(db, fake, running, "https://hooks.example/calendly/webhook")
    missed = fake.add_booking("Missed")
    fake.disable(old_uuid)
    # Calendly fails while hookline reads the gap, longer than the client's own retries ride out.
    fake.failures["/scheduled_events"] = DEFAULT_RULES.attempts
    first = run_cli("calendly", "watchdog", "--once", database_url=database_url, env=env)
    assert first.returncode == 1 and "Calendly answered 500" in first.stdout
    (managed,) = SubscriptionStore(db).all()
    assert managed.uuid != old_uuid and managed.backfill_since is not None and synced(db) == []
    second = run_cli("calendly", "watchdog", "--once", database_url=database_url, env=env)
    assert second.returncode == 0 and "0 recreated, 1 events backfilled" in second.stdout
    assert [r[3] for r in synced(db)] == [missed["uri"]]
    (managed,) = SubscriptionStore(db).all()
    assert managed.backfill_since is None


def test_a_backfilled_invitee_the_log_cannot_hold_is_refused_alone(
    db: Database, database_url: str, fake_calendly: tuple[FakeCalendly, RunningApp]
) -> None:
    fake, running = fake_calendly
    env = {"HOOKLINE_CALENDLY_API_URL": running.url}
    old_uuid = manage(db, fake, running, "https://hooks.example/calendly/webhook")
    good = fake.add_booking("Ann Good")
    bad = fake.add_booking("Nul Uri")
    fake.find_invitee(bad["uri"])["uri"] = bad["uri"] + "\x00x"  # PostgreSQL text cannot hold it
    fake.disable(old_uuid)
    out = run_cli("calendly", "watchdog", "--once", database_url=database_url, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert ", 1 recreated," in out.stdout and "1 events backfilled" in out.stdout  # (a uuid may end in "0")
    assert [r[3] for r in synced(db)] == [good["uri"]]
    logged = out.stdout + out.stderr
    assert "calendly.backfill_refused" in logged and "resource id contains a NUL character" in logged
    assert "\x00" not in logged


def test_a_lone_surrogate_in_a_backfilled_invitee_is_stored_mended(
    db: Database, database_url: str, fake_calendly: tuple[FakeCalendly, RunningApp]
) -> None:
    """Calendly's JSON can escape half a surrogate pair alone (a name cut inside an emoji); that half
    becomes U+FFFD (providers/api_json.py) and the invitee is backfilled with the rest as sent."""
    fake, running = fake_calendly
    env = {"HOOKLINE_CALENDLY_API_URL": running.url}
    old_uuid = manage(db, fake, running, "https://hooks.example/calendly/webhook")
    cut = fake.add_booking("Zoe \ud83d")
    fake.disable(old_uuid)
    out = run_cli("calendly", "watchdog", "--once", database_url=database_url, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 events backfilled" in out.stdout, out.stdout
    [row] = synced(db)
    assert row[3] == cut["uri"] and json.loads(bytes(row[4]))["payload"]["name"] == "Zoe \ufffd"


def test_a_pass_checks_accounts_concurrently_within_the_bound(
    db: Database, fake_calendly: tuple[FakeCalendly, RunningApp]
) -> None:
    """Issue 15: many installed organizations are checked a few at a time, not one after another."""
    import asyncio

    from hookline.providers.calendly.settings import CalendlySettings
    from hookline.providers.calendly.watchdog import check_all
    from hookline.testing.calendly.fake_api import Subscription

    fake, running = fake_calendly
    n = 12

    async def seed() -> list[Subscription]:
        made = [Subscription(uuid=f"SUB{i:013d}", url=f"https://hooks.example/calendly/webhook?n={i}",
                             events=["invitee.created"], scope="organization", organization=fake.organization_uri,
                             user=None, creator=fake.user_uri, signing_key=None, created_at=time.time())
                for i in range(n)]
        fake.subscriptions.update({s.uuid: s for s in made})
        return made

    for i, sub in enumerate(running.call(seed())):
        AccountStore(db, BOX).add(f"org-{i:02d}", DEFAULT_TOKEN, fake.user_uri, fake.organization_uri)
        SubscriptionStore(db).add(f"{running.url}/webhook_subscriptions/{sub.uuid}", f"org-{i:02d}", sub.url,
                                  sub.events, "organization", None)
    fake.latency = 0.05  # Calendly is not on localhost
    cfg = CalendlySettings(api_url=running.url)

    reports = asyncio.run(check_all(db, cfg, BOX, concurrency=4))
    assert reports is not None and [r.account for r in reports] == [f"org-{i:02d}" for i in range(n)]
    assert all(r.checked == 1 and not r.errors and not r.recreated for r in reports)
    assert 2 <= fake.max_in_flight <= 4  # concurrent (the old loop had 1 in flight), never past the bound

    fake.max_in_flight = 0
    assert asyncio.run(check_all(db, cfg, BOX, concurrency=1)) is not None
    assert fake.max_in_flight == 1
