"""Calendly OAuth installs end to end on both engines: a real `serve`, the fake Calendly (authorize
page with PKCE, token endpoint with single-use rotating refresh tokens, expiring access tokens), an
HTTP client that keeps cookies like a browser; and two refreshers racing over one refresh token."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import httpx
import pytest

from hookline.oauth import installations
from hookline.oauth.apps import AppStore
from hookline.oauth.exchange import Grant
from hookline.oauth.tokens import Refresher, Uninstalled, token_url_for
from hookline.providers.calendly.oauth_install import holder, save_install
from hookline.providers.calendly.subscriptions import SubscriptionStore
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from hookline.testing.calendly.fake_api import FakeCalendly
from tests.dashboard.conftest import browser  # noqa: F401  (the module's Chromium, a fixture)
from tests.dashboard.helpers import artifact, sign_in
from tests.providers.fake_server import RunningApp
from tests.support import Server, count_events, run_cli, serve_oauth_app, wait_for

CLIENT_ID = "cal-client-id"
CLIENT_SECRET = "cal-client-secret-0123456789"
SIGNING_KEY = "cal-app-signing-key-0123456789abcdef"


@dataclass
class Partner:
    server: Server
    fake: FakeCalendly
    running: RunningApp
    db: Database
    cli: Callable[..., Any]

    def call(self, fn: Callable[[], Any]) -> Any:
        async def run() -> Any:
            return fn()

        return self.running.call(run())

    def install(self, org: str) -> httpx.Response:
        self.call(lambda: setattr(self.fake, "oauth_installer", org))
        with httpx.Client(follow_redirects=True, timeout=20) as agent:
            return agent.get(self.server.url + "/calendly/oauth/install")

    def accounts(self) -> dict[str, dict[str, Any]]:
        out = self.cli("calendly", "account", "list", "--json")
        assert out.returncode == 0, out.stderr
        return {row["name"]: row for row in json.loads(out.stdout)}

    def deliver(self, org: str, n: int) -> list[int]:
        payload = {"uri": f"https://api.calendly.com/scheduled_events/E{n}/invitees/I{n}", "name": "Jane",
                   "email": "jane@example.com", "status": "active"}
        return list(self.running.call(self.fake.deliver("invitee.created", payload, org=org)))

    def events(self, account: str) -> int:
        return count_events(self.db, "calendly", account)

    def watchdog(self) -> Any:
        return self.cli("calendly", "watchdog", "--once")


@pytest.fixture
def fake() -> Iterator[tuple[FakeCalendly, RunningApp]]:
    fake = FakeCalendly()
    fake.set_oauth_app(CLIENT_ID, CLIENT_SECRET, SIGNING_KEY)
    running = RunningApp(fake.app()).start()
    fake.base_url = running.url
    try:
        yield fake, running
    finally:
        running.stop()


@pytest.fixture
def partner(start_server: Callable[..., Server], fake: tuple[FakeCalendly, RunningApp], db: Database,
            database_url: str) -> Partner:
    fake_api, running = fake

    def cli(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Any:
        return run_cli(*args, database_url=database_url, input=input,
                       env={"HOOKLINE_CALENDLY_API_URL": running.url, **(env or {})})

    server = serve_oauth_app(start_server, cli, "calendly",
                             ["--client-id", CLIENT_ID, "--client-secret", "-", "--webhook-signing-key", "-",
                              "--authorize-url", running.url + "/oauth/authorize", "--api-url", running.url],
                             f"{CLIENT_SECRET}\n{SIGNING_KEY}\n",
                             {"HOOKLINE_CALENDLY_WATCHDOG_INTERVAL_SECONDS": "0",
                              "HOOKLINE_CALENDLY_API_URL": running.url})
    return Partner(server, fake_api, running, db, cli)


def test_configure_and_show_never_print_the_secrets(partner: Partner) -> None:
    shown = partner.cli("calendly", "oauth", "show", "--json", env={"HOOKLINE_PUBLIC_URL": "https://h.example"})
    assert shown.returncode == 0, shown.stderr
    row = json.loads(shown.stdout)
    assert row["client_id"] == CLIENT_ID and row["webhook_signing_key"] == "stored"
    assert row["redirect_uri"] == "https://h.example/calendly/oauth/callback"
    assert CLIENT_SECRET not in shown.stdout and SIGNING_KEY not in shown.stdout
    bad = partner.cli("calendly", "oauth", "configure", "--client-id", "x", "--client-secret", "s",
                      "--webhook-signing-key", "k", "--api-url", "ftp://x")
    assert bad.returncode == 2 and "--api-url must be an http(s) URL" in bad.stderr
    empty = partner.cli("calendly", "oauth", "configure", "--client-id", "x", "--client-secret", "-",
                        "--webhook-signing-key", "-", input="s\n\n")
    assert empty.returncode == 2 and "no webhook signing key on standard input" in empty.stderr


def test_install_redirects_with_pkce_state_and_cookie(partner: Partner) -> None:
    with httpx.Client(timeout=10) as agent:
        first = agent.get(partner.server.url + "/calendly/oauth/install")
    assert first.status_code == 302
    query = {k: v[0] for k, v in parse_qs(urlsplit(first.headers["location"]).query).items()}
    assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
    assert query["redirect_uri"] == partner.server.url + "/calendly/oauth/callback"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32
    cookie = first.headers["set-cookie"].lower()
    assert "hookline_oauth=" in cookie and "path=/calendly/oauth" in cookie and "httponly" in cookie


def test_two_organizations_install_events_flow_and_reinstall_keeps_one_subscription(partner: Partner) -> None:
    page = partner.install("acme")
    assert page.status_code == 200, page.text
    assert "acme is connected" in page.text
    assert partner.install("globex").status_code == 200
    accounts = partner.accounts()
    assert accounts["acme"]["auth"] == "oauth" and accounts["acme"]["installed"] is True
    assert accounts["globex"]["installed"] is True
    for org in ("acme", "globex"):
        (sub,) = partner.call(lambda o=org: partner.fake.subscriptions_of(o))
        assert sub.scope == "organization" and sub.url.startswith(partner.server.url + "/calendly/webhook?install=")
        assert sub.signing_key == SIGNING_KEY
    assert partner.deliver("acme", 1) == [200]
    assert partner.deliver("globex", 2) == [200]
    assert partner.deliver("globex", 3) == [200]
    assert (partner.events("acme"), partner.events("globex")) == (1, 2)
    again = partner.install("acme")
    assert again.status_code == 200 and "reconnected" in again.text
    assert len(partner.call(lambda: partner.fake.subscriptions_of("acme"))) == 1
    assert sorted(partner.accounts()) == ["acme", "globex"]
    assert partner.deliver("acme", 4) == [200]
    log = partner.server.log()
    assert CLIENT_SECRET not in log and SIGNING_KEY not in log and "cal-rt-" not in log


def test_a_failed_reinstall_leaves_the_account_its_subscription(partner: Partner) -> None:
    """The new subscription is made first and the old one deleted only after the commit: a re-install
    that fails on the way (Calendly refuses to create the subscription) leaves events flowing."""
    assert partner.install("acme").status_code == 200
    (old,) = partner.call(lambda: partner.fake.subscriptions_of("acme"))
    partner.call(lambda: partner.fake.failures.__setitem__("POST /webhook_subscriptions", 10))
    failing = partner.install("acme")
    assert failing.status_code == 502 and "Calendly is unavailable" in failing.text
    (kept,) = partner.call(lambda: partner.fake.subscriptions_of("acme"))
    assert kept.uuid == old.uuid and kept.state == "active"
    assert partner.deliver("acme", 1) == [200] and partner.events("acme") == 1
    assert partner.accounts()["acme"]["installed"] is True
    # The database still names the subscription that delivers (the watchdog keeps checking it).
    assert [m.uuid for m in SubscriptionStore(partner.db).all() if m.account == "acme"] == [old.uuid]
    partner.call(lambda: partner.fake.failures.clear())
    assert partner.install("acme").status_code == 200  # and a good re-install replaces it
    (new,) = partner.call(lambda: partner.fake.subscriptions_of("acme"))
    assert new.uuid != old.uuid


def test_tokens_refresh_before_expiry_and_after_a_401(partner: Partner) -> None:
    partner.call(lambda: setattr(partner.fake, "access_ttl", 60.0))  # inside the 300 s margin at once
    assert partner.install("acme").status_code == 200
    before = partner.accounts()["acme"]["token"]
    done = partner.watchdog()
    assert done.returncode == 0, done.stdout + done.stderr
    assert partner.call(lambda: list(partner.fake.token_calls)) == ["authorization_code", "refresh_token"]
    assert partner.accounts()["acme"]["token"] != before  # the rotated access token is stored
    # Calendly expires the token early (hookline still thinks it is good): the 401 triggers a refresh.
    partner.call(lambda: setattr(partner.fake, "access_ttl", 7200.0))
    assert partner.watchdog().returncode == 0
    partner.call(lambda: partner.fake.expire_access_tokens())
    again = partner.watchdog()
    assert again.returncode == 0, again.stdout + again.stderr
    assert partner.call(lambda: partner.fake.token_calls.count("refresh_token")) == 3
    assert partner.accounts()["acme"]["installed"] is True


def test_subscriptions_commands_refresh_an_expired_access_token(partner: Partner) -> None:
    assert partner.install("acme").status_code == 200
    before = partner.accounts()["acme"]["token"]
    # The stored access token has expired, at Calendly too: the commands refresh it first, as the watchdog does.
    partner.call(lambda: partner.fake.expire_access_tokens())
    with partner.db.connection() as conn, conn.transaction():
        conn.execute("UPDATE oauth_installations SET expires_at = ? WHERE account = 'acme'", (time.time() - 1,))
    listed = partner.cli("calendly", "subscriptions", "list", "--account", "acme", "--json")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    (row,) = [r for r in json.loads(listed.stdout) if r["scope"] == "organization"]
    assert row["managed"] is True and row["state"] == "active"
    assert partner.call(lambda: partner.fake.token_calls.count("refresh_token")) == 1
    assert partner.accounts()["acme"]["token"] != before  # the rotated token is stored
    # Calendly refuses the fresh token early: one refresh after the 401, and the command still works.
    partner.call(lambda: partner.fake.expire_access_tokens())
    made = partner.cli("calendly", "subscriptions", "create", "--account", "acme", "--scope", "organization",
                       "--url", partner.server.url + "/calendly/webhook?second=1", "--events", "invitee.created")
    assert made.returncode == 0, made.stdout + made.stderr
    assert partner.call(lambda: partner.fake.token_calls.count("refresh_token")) == 2
    uuid = made.stdout.split()[1]
    partner.call(lambda: partner.fake.expire_access_tokens())
    with partner.db.connection() as conn, conn.transaction():
        conn.execute("UPDATE oauth_installations SET expires_at = ? WHERE account = 'acme'", (time.time() - 1,))
    deleted = partner.cli("calendly", "subscriptions", "delete", uuid, "--account", "acme")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert partner.call(lambda: partner.fake.token_calls.count("refresh_token")) == 3
    assert len(partner.call(lambda: partner.fake.subscriptions_of("acme"))) == 1
    assert "cal-at-" not in listed.stdout + made.stdout + deleted.stdout + listed.stderr


def test_install_imports_what_the_organization_booked_before(partner: Partner) -> None:
    now = time.time()
    partner.call(lambda: partner.fake.add_booking(name="Before Install", created_at=now - 600, org="acme"))
    partner.call(lambda: partner.fake.add_booking(name="Long Ago", created_at=now - 3 * 86400, start=now - 3 * 86400,
                                                  org="acme"))
    partner.call(lambda: partner.fake.add_booking(name="Another Org", created_at=now - 600, org="globex"))
    page = partner.install("acme")
    assert page.status_code == 200, page.text
    assert "being imported" in page.text
    wait_for(lambda: partner.events("acme") == 1)
    with partner.db.connection() as conn:
        (event, origin, body) = conn.fetchone("SELECT event, origin, body FROM events WHERE account = 'acme'")
    assert (event, origin) == ("invitee.synced", "backfill")
    assert "Before Install" in (body if isinstance(body, str) else bytes(body).decode())
    assert "calendly.oauth_backfill_done" in partner.server.log()
    assert partner.events("globex") == 0


def test_uninstall_stops_the_account_keeps_its_data_and_reinstall_brings_it_back(partner: Partner) -> None:
    assert partner.install("acme").status_code == 200
    assert partner.install("globex").status_code == 200
    assert partner.deliver("acme", 1) == [200]
    partner.call(lambda: partner.fake.revoke("acme"))  # the organization removed the app
    partner.call(lambda: partner.fake.expire_access_tokens())
    checked = partner.watchdog()
    assert "uninstalled" in checked.stdout
    accounts = partner.accounts()
    assert accounts["acme"]["installed"] is False and accounts["globex"]["installed"] is True
    wait_for(lambda: partner.deliver("acme", 2) == [401])  # its events are no longer accepted
    assert partner.deliver("globex", 3) == [200]
    assert partner.events("acme") == 1  # its data stays
    second = partner.watchdog()
    assert "acme" not in second.stdout  # its loops stop
    assert partner.install("acme").status_code == 200
    assert partner.accounts()["acme"]["installed"] is True
    wait_for(lambda: partner.deliver("acme", 4) == [200])
    assert partner.events("acme") == 2


def _nothing_made(partner: Partner) -> None:
    assert partner.accounts() == {}
    with partner.db.connection() as conn:
        assert conn.scalar("SELECT COUNT(*) FROM oauth_installations") == 0
        assert conn.scalar("SELECT COUNT(*) FROM calendly_subscriptions") == 0
    assert partner.call(lambda: len(partner.fake.subscriptions)) == 0


def test_denied_wrong_state_replayed_code_and_calendly_down_end_on_clear_pages(partner: Partner) -> None:
    partner.call(lambda: setattr(partner.fake, "oauth_deny", True))
    denied = partner.install("acme")
    assert denied.status_code == 403 and "did not allow access" in denied.text
    partner.call(lambda: setattr(partner.fake, "oauth_deny", False))
    with httpx.Client(timeout=10) as agent:
        to_calendly = agent.get(partner.server.url + "/calendly/oauth/install")
        callback = httpx.get(to_calendly.headers["location"], timeout=10).headers["location"]
        foreign = httpx.get(callback, timeout=10)  # another browser: no cookie
        assert foreign.status_code == 400 and "another browser" in foreign.text
        code = parse_qs(urlsplit(callback).query)["code"][0]
        # A fresh state of this browser with a code already spent: Calendly refuses it.
        partner.call(lambda: partner.fake.codes.clear())
        second = agent.get(partner.server.url + "/calendly/oauth/install")
        state = parse_qs(urlsplit(second.headers["location"]).query)["state"][0]
        replayed = agent.get(partner.server.url + "/calendly/oauth/callback", params={"code": code, "state": state})
        assert replayed.status_code == 400 and "expired or was used already" in replayed.text
    _nothing_made(partner)
    partner.call(lambda: setattr(partner.fake, "token_down", True))
    down = partner.install("acme")
    assert down.status_code == 502 and "Calendly is unavailable" in down.text
    partner.call(lambda: setattr(partner.fake, "token_down", False))
    partner.call(lambda: partner.fake.failures.__setitem__("/webhook_subscriptions", 10))
    failing = partner.install("acme")
    assert failing.status_code == 502 and "Traceback" not in failing.text
    _nothing_made(partner)


def test_two_refreshers_racing_store_one_rotation_and_lose_nothing(
    fake: tuple[FakeCalendly, RunningApp], database_url: str, db: Database
) -> None:
    """Two processes (two Database objects, two threads) refresh the same expired token at once:
    one asks Calendly, the other takes its result; the stored refresh token is the live one."""
    fake_api, running = fake
    box = SecretBox(None)
    AppStore(db, box).configure("calendly", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                authorize_url=running.url + "/oauth/authorize", api_url=running.url,
                                default_authorize_url="x", default_api_url="x", webhook_secret=SIGNING_KEY)

    async def first_grant() -> dict[str, Any]:
        fake_api.add_org("acme")
        return fake_api._grant("acme")

    body = running.call(first_grant())
    with db.connection() as conn, conn.transaction():
        save_install(conn, box, label="acme", org_uri=body["organization"], user_uri=body["owner"],
                     grant=Grant(body["access_token"], body["refresh_token"], time.time() - 1), api_url=running.url,
                     subscription_uri="https://api.calendly.com/webhook_subscriptions/S1", callback_url="https://h/x")
    results: list[str | None] = []
    barrier = threading.Barrier(2)

    def refresher_process() -> None:
        other = Database(database_url)
        try:
            app = AppStore(other, box).get("calendly")
            assert app is not None
            refresher = Refresher(other, box, holder(box), app, token_url_for(app.authorize_url))

            async def run() -> str | None:
                async with aiohttp.ClientSession() as session:
                    barrier.wait()
                    return await refresher.access_token(session, "acme")

            results.append(asyncio.run(run()))
        finally:
            other.close()

    threads = [threading.Thread(target=refresher_process) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 2 and results[0] == results[1] and results[0] != body["access_token"]
    assert running.call(_count(fake_api)) == 1  # one refresh at Calendly
    with db.connection() as conn:
        found = installations.get(conn, "calendly", "acme")
        sealed = conn.scalar("SELECT refresh_token FROM oauth_installations WHERE account = 'acme'")
        version = conn.scalar("SELECT token_version FROM oauth_installations WHERE account = 'acme'")
    assert found is not None and found.installed
    assert box.open(str(sealed)) in fake_api.refresh_tokens  # the live refresh token was kept
    assert version == 1  # one stored refresh over the install's version 0
    # A refused refresh token uninstalls; the stored one still works until then.
    fake_api.revoke("acme")
    app = AppStore(db, box).get("calendly")
    assert app is not None

    async def refused() -> None:
        async with aiohttp.ClientSession() as session:
            r = Refresher(db, box, holder(box), app, token_url_for(app.authorize_url))
            with pytest.raises(Uninstalled):
                await r.access_token(session, "acme", refused=results[0])

    asyncio.run(refused())
    with db.connection() as conn:
        gone = installations.get(conn, "calendly", "acme")
    assert gone is not None and not gone.installed and gone.uninstall_reason == "refresh_refused"


def _count(fake_api: FakeCalendly) -> Any:
    async def count() -> int:
        return fake_api.token_calls.count("refresh_token")

    return count()


def install_in_browser(page: Any, partner: Partner, org: str) -> None:
    """An admin of organization `org` installs the app: the success page."""
    partner.call(lambda: setattr(partner.fake, "oauth_installer", org))
    page.goto(partner.server.url + "/calendly/oauth/install")
    page.wait_for_url(partner.server.url + "/calendly/oauth/callback*")
    assert page.locator("h1").inner_text() == "Calendly connected"


def test_in_a_real_browser_install_refresh_uninstall_and_reinstall(
    partner: Partner, browser: Any, engine: str  # noqa: F811
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        for org in ("acme", "globex"):
            install_in_browser(page, partner, org)
            assert f"{org} is connected" in page.inner_text("body")
        page.screenshot(path=str(artifact(f"oauth-calendly-installed-{engine}.png")))
        assert partner.deliver("acme", 1) == [200]
        # acme's token is due soon; Calendly's token endpoint is down: acme is failing, still installed,
        # and its token is used until it expires.
        partner.call(lambda: setattr(partner.fake, "token_down", True))
        with partner.db.connection() as conn:
            conn.execute("UPDATE oauth_installations SET expires_at = ? WHERE account = 'acme'", (time.time() + 60,))
        checked = partner.watchdog()
        assert checked.returncode == 0, checked.stdout + checked.stderr
        sign_in(page, partner.server, "/installations")
        acme = page.locator('#installations tr[data-account="acme"]')
        assert acme.get_attribute("data-state") == "failing" and "503" in acme.inner_text()
        assert acme.get_attribute("data-webhooks") == "enabled" and "ago" in acme.inner_text()
        globex = page.locator('#installations tr[data-account="globex"]')
        assert globex.get_attribute("data-state") == "installed"
        page.screenshot(path=str(artifact(f"oauth-calendly-failing-{engine}.png")))
        partner.call(lambda: setattr(partner.fake, "token_down", False))
        assert partner.watchdog().returncode == 0  # refreshed across the expiry: installed again
        page.reload()
        assert page.get_attribute('#installations tr[data-account="acme"]', "data-state") == "installed"
        assert partner.deliver("globex", 2) == [200] and partner.events("globex") == 1  # the second company's
        # acme's admin removes the app: the watchdog's refused refresh uninstalls it; its data stays.
        partner.call(lambda: partner.fake.revoke("acme"))
        partner.call(lambda: partner.fake.expire_access_tokens())
        assert "uninstalled" in partner.watchdog().stdout
        page.reload()
        assert page.get_attribute('#installations tr[data-account="acme"]', "data-state") == "uninstalled"
        assert page.get_attribute('#installations tr[data-account="globex"]', "data-state") == "installed"
        wait_for(lambda: partner.deliver("acme", 3) == [401])
        assert partner.events("acme") == 1
        page.screenshot(path=str(artifact(f"oauth-calendly-uninstalled-{engine}.png")))
        # ... and installs it again, in the browser: the same account, receiving again.
        install_in_browser(page, partner, "acme")
        page.goto(partner.server.url + "/installations")  # still signed in
        assert page.get_attribute('#installations tr[data-account="acme"]', "data-state") == "installed"
        assert page.locator("#installations tr[data-account]").count() == 2
        wait_for(lambda: partner.deliver("acme", 4) == [200])
        assert partner.events("acme") == 2
    finally:
        context.close()
