"""Aircall OAuth installs end to end: a real `serve`, the fake Aircall API (authorize page, token
exchange, integrations/me, uninstall), and an HTTP client that follows redirects and keeps cookies
like a browser. Both engines."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hookline.store.engine import Database
from tests.dashboard.conftest import browser  # noqa: F401  (the module's Chromium, a fixture)
from tests.dashboard.helpers import artifact, sign_in
from tests.providers.aircall.conftest import FakeAircall
from tests.support import Server, count_events, installation_states, serve_oauth_app, wait_for

CLIENT_ID = "hookline-client-id"
CLIENT_SECRET = "client-secret-0123456789abcdef"


@dataclass
class Partner:
    server: Server
    fake: FakeAircall
    db: Database
    cli: Callable[..., Any]
    stamps: dict[int, int] = field(default_factory=dict)

    def install(self, company: str) -> httpx.Response:
        """An admin of `company` installs the app in a fresh browser; the final page."""
        self.fake.call(lambda: setattr(self.fake.state, "oauth_installer", company))
        with httpx.Client(follow_redirects=True, timeout=20) as agent:
            return agent.get(self.server.url + "/aircall/oauth/install")

    def accounts(self) -> dict[str, dict[str, Any]]:
        out = self.cli("aircall", "account", "list", "--json")
        assert out.returncode == 0, out.stderr
        return {row["name"]: row for row in json.loads(out.stdout)}

    def webhooks(self, company: str) -> list[dict[str, Any]]:
        return self.fake.call(lambda: self.fake.state.webhooks_for(company))

    def post_event(self, token: str, call_id: int) -> httpx.Response:
        """call.created for `call_id`; sent again, it is the same delivery (same timestamp), so a resend
        the receiver accepts is a duplicate, as Aircall's own retries are."""
        stamp = self.stamps.setdefault(call_id, int(time.time()))
        envelope = {"resource": "call", "event": "call.created", "timestamp": stamp,
                    "token": token, "data": {"id": call_id, "direction": "inbound", "status": "initial"}}
        return httpx.post(self.server.url + "/aircall/webhook", json=envelope, timeout=10)

    def events(self, account: str, event: str | None = None) -> int:
        return count_events(self.db, "aircall", account, event)

    def uninstall(self, company: str) -> list[int]:
        return asyncio.run_coroutine_threadsafe(self.fake.state.uninstall(company), self.fake.loop).result(20)


@pytest.fixture
def partner(start_server: Callable[..., Server], fake_aircall: FakeAircall, db: Database,
            cli: Callable[..., Any]) -> Partner:
    fake_aircall.call(lambda: fake_aircall.state.set_oauth_app(CLIENT_ID, CLIENT_SECRET))
    fake_aircall.call(lambda: fake_aircall.state.add_account("globex", rate_limit=1_000_000))
    fake_aircall.call(lambda: setattr(fake_aircall.state, "oauth_installer", "acme"))
    server = serve_oauth_app(start_server, cli, "aircall",
                             ["--client-id", CLIENT_ID, "--client-secret", "-", "--authorize-url",
                              fake_aircall.url + "/oauth/authorize", "--api-url", fake_aircall.url],
                             CLIENT_SECRET + "\n", fake_aircall.env(HOOKLINE_AIRCALL_WATCHDOG_INTERVAL="0"))
    return Partner(server, fake_aircall, db, cli)


def test_configure_and_show_never_print_the_secret(cli: Callable[..., Any], fake_aircall: FakeAircall) -> None:
    missing = cli("aircall", "oauth", "show")
    assert missing.returncode == 1 and "no Aircall OAuth app" in missing.stderr
    bad = cli("aircall", "oauth", "configure", "--client-id", "x", "--client-secret", "s", "--api-url", "ftp://x")
    assert bad.returncode == 2 and "--api-url must be an http(s) URL" in bad.stderr
    done = cli("aircall", "oauth", "configure", "--client-id", CLIENT_ID, "--client-secret", "-",
               input=CLIENT_SECRET + "\n", env={"HOOKLINE_PUBLIC_URL": "https://hooks.example.com"})
    assert done.returncode == 0, done.stderr
    assert "https://hooks.example.com/aircall/oauth/install" in done.stdout
    shown = cli("aircall", "oauth", "show", "--json", env={"HOOKLINE_PUBLIC_URL": "https://hooks.example.com/"})
    assert shown.returncode == 0, shown.stderr
    row = json.loads(shown.stdout)
    assert row["client_id"] == CLIENT_ID
    assert row["authorize_url"] == "https://dashboard.aircall.io/oauth/authorize"
    assert row["api_url"] == "https://api.aircall.io"
    assert row["install_uri"] == "https://hooks.example.com/aircall/oauth/install"
    assert row["redirect_uri"] == "https://hooks.example.com/aircall/oauth/callback"
    assert CLIENT_SECRET not in shown.stdout + done.stdout + done.stderr
    # A later configure without a new secret keeps the stored one... but the option is required: a new one.
    again = cli("aircall", "oauth", "configure", "--client-id", "other", "--client-secret", "-", input="\n")
    assert again.returncode == 2 and "no client secret on standard input" in again.stderr  # bad input


def test_install_redirects_with_state_and_a_browser_cookie(partner: Partner) -> None:
    with httpx.Client(timeout=10) as agent:
        first = agent.get(partner.server.url + "/aircall/oauth/install")
    assert first.status_code in (302, 303)
    target = urlsplit(first.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == partner.fake.url + "/oauth/authorize"
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == partner.server.url + "/aircall/oauth/callback"
    assert query["response_type"] == "code" and query["scope"] == "public_api"
    assert len(query["state"]) >= 32
    cookie = first.headers["set-cookie"].lower()
    assert "hookline_oauth=" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_two_companies_install_and_their_events_flow(partner: Partner) -> None:
    partner.fake.call(lambda: partner.fake.state.seed_calls(3, start=time.time() - 600, account="acme"))
    page = partner.install("acme")
    assert page.status_code == 200, page.text
    assert "Acme is connected" in page.text
    assert partner.install("globex").status_code == 200
    accounts = partner.accounts()
    assert accounts["acme"]["auth"] == "oauth" and accounts["acme"]["installed"] is True
    assert accounts["globex"]["auth"] == "oauth" and accounts["globex"]["installed"] is True
    tokens = {}
    for company in ("acme", "globex"):
        (hook,) = partner.webhooks(company)
        assert hook["url"] == partner.server.url + "/aircall/webhook"
        assert hook["events"] and len(hook["events"]) == len(partner.fake.state.events)  # an explicit list
        tokens[company] = hook["token"]
        assert hook["token"] not in page.text
    assert CLIENT_SECRET not in page.text and "access_token" not in page.text
    assert partner.post_event(tokens["acme"], 1).status_code == 200
    assert partner.post_event(tokens["globex"], 2).status_code == 200
    assert partner.post_event(tokens["globex"], 3).status_code == 200
    assert partner.events("acme", "call.created") == 1
    assert partner.events("globex", "call.created") == 2
    # The first backfill window ran in the background with the new token.
    wait_for(lambda: partner.events("acme", "call.synced") == 3)
    assert CLIENT_SECRET not in partner.server.log()


def test_reinstall_updates_the_account_and_leaves_one_webhook(partner: Partner) -> None:
    assert partner.install("acme").status_code == 200
    (old,) = partner.webhooks("acme")
    again = partner.install("acme")
    assert again.status_code == 200 and "reconnected" in again.text
    (new,) = partner.webhooks("acme")
    assert new["webhook_id"] != old["webhook_id"]
    assert list(partner.accounts()) == ["acme"]
    wait_for(lambda: partner.post_event(old["token"], 5).status_code == 401)
    assert partner.post_event(new["token"], 5).status_code == 200


def test_uninstall_stops_the_account_and_a_reinstall_brings_it_back(partner: Partner) -> None:
    assert partner.install("acme").status_code == 200
    assert partner.install("globex").status_code == 200
    (hook,) = partner.webhooks("acme")
    assert partner.post_event(hook["token"], 7).status_code == 200
    assert partner.uninstall("acme") == [200]  # integration.deleted is stored like any event
    wait_for(lambda: partner.accounts()["acme"]["installed"] is False)
    assert partner.accounts()["globex"]["installed"] is True
    # The receiver's token cache (0.2 s here) may accept the token once more before it refuses it.
    wait_for(lambda: partner.post_event(hook["token"], 8).status_code == 401)
    stored = partner.events("acme", "call.created")
    assert stored in (1, 2)  # its data stays (event 7, and 8 once if it came before the cache expired)
    assert partner.post_event(hook["token"], 11).status_code == 401
    assert partner.events("acme", "call.created") == stored  # nothing is stored once refused
    (other,) = partner.webhooks("globex")
    assert partner.post_event(other["token"], 9).status_code == 200

    assert partner.install("acme").status_code == 200
    assert partner.accounts()["acme"]["installed"] is True
    (fresh,) = partner.webhooks("acme")
    assert partner.post_event(fresh["token"], 10).status_code == 200
    assert partner.events("acme", "call.created") == stored + 1


def _no_account(partner: Partner, company: str = "acme") -> None:
    assert company not in partner.accounts()
    assert partner.webhooks(company) == []
    with partner.db.connection() as conn:
        assert conn.scalar("SELECT COUNT(*) FROM oauth_installations") == 0
        assert conn.scalar("SELECT COUNT(*) FROM aircall_tokens") == 0


def test_denied_consent_ends_on_a_clear_page(partner: Partner) -> None:
    partner.fake.call(lambda: setattr(partner.fake.state, "oauth_deny", True))
    denied = partner.install("acme")
    assert denied.status_code == 403 and "did not allow access" in denied.text
    _no_account(partner)
    assert "aircall.oauth_refused" in partner.server.log()


def test_wrong_missing_or_replayed_state_is_refused(partner: Partner) -> None:
    with httpx.Client(timeout=10) as agent:
        to_aircall = agent.get(partner.server.url + "/aircall/oauth/install")
        back = httpx.get(to_aircall.headers["location"], timeout=10)  # the fake approves
        callback = back.headers["location"]
        # Another browser (no cookie) cannot use the admin's state.
        foreign = httpx.get(callback, timeout=10)
        assert foreign.status_code == 400 and "another browser" in foreign.text
        tampered = agent.get(callback.replace("state=", "state=x"))
        assert tampered.status_code == 400
        ok = agent.get(callback)
        assert ok.status_code == 200, ok.text
        replayed = agent.get(callback)
        assert replayed.status_code == 400 and "used already" in replayed.text
    assert list(partner.accounts()) == ["acme"]
    missing = httpx.get(partner.server.url + "/aircall/oauth/callback?code=abc", timeout=10)
    assert missing.status_code == 400


def test_replayed_or_expired_code_is_refused_and_nothing_is_made(partner: Partner) -> None:
    with httpx.Client(timeout=10) as agent:
        first = agent.get(partner.server.url + "/aircall/oauth/install")
        code = parse_qs(urlsplit(httpx.get(first.headers["location"], timeout=10).headers["location"]).query)["code"][0]
        partner.fake.call(lambda: partner.fake.state.advance(120))  # past the code's 60 s
        second = agent.get(partner.server.url + "/aircall/oauth/install")
        state = parse_qs(urlsplit(second.headers["location"]).query)["state"][0]
        expired = agent.get(partner.server.url + "/aircall/oauth/callback", params={"code": code, "state": state})
    assert expired.status_code == 400 and "expired or was used already" in expired.text
    _no_account(partner)
    assert "aircall.oauth_failed" in partner.server.log()


@pytest.mark.parametrize("fault", ["integration", "webhook_limit", "token_endpoint_down"])
def test_aircall_failures_end_on_502_and_leave_nothing(partner: Partner, fault: str) -> None:
    if fault == "integration":
        partner.fake.call(lambda: partner.fake.state.inject_failures(10, 503))
    elif fault == "webhook_limit":
        partner.fake.call(lambda: setattr(partner.fake.state, "webhook_limit", 0))
    else:
        done = partner.cli("aircall", "oauth", "configure", "--client-id", CLIENT_ID, "--client-secret", "-",
                           "--api-url", "http://127.0.0.1:9", input=CLIENT_SECRET + "\n")
        assert done.returncode == 0, done.stderr
    page = partner.install("acme")
    assert page.status_code == 502, page.text
    assert "Aircall" in page.text and "Traceback" not in page.text
    partner.fake.call(lambda: partner.fake.state.clear_failures())
    _no_account(partner)


def test_a_refused_token_uninstalls_only_that_account(partner: Partner) -> None:
    assert partner.install("acme").status_code == 200
    assert partner.install("globex").status_code == 200
    # The first backfills are done (one refused would uninstall acme by itself, which is right, but
    # this test is about the watchdog's 401).
    wait_for(lambda: partner.server.log().count("aircall.oauth_backfill_done") == 2)
    partner.fake.call(lambda: setattr(partner.fake.account("acme"), "oauth_token", None))  # revoked at Aircall
    env = {"HOOKLINE_PUBLIC_URL": partner.server.url}
    first = partner.cli("aircall", "watchdog", "--once", env=env)
    assert "rejected the credentials for account acme" in first.stdout + first.stderr
    accounts = partner.accounts()
    assert accounts["acme"]["installed"] is False and accounts["globex"]["installed"] is True
    second = partner.cli("aircall", "watchdog", "--once", env=env)
    assert second.returncode == 0, second.stderr
    assert "1 account(s)" in second.stdout  # acme is skipped, globex still watched
    assert partner.install("acme").status_code == 200
    assert partner.accounts()["acme"]["installed"] is True


def test_a_watchdog_pass_failing_with_5xx_marks_the_installation_failing_until_one_succeeds(partner: Partner) -> None:
    """Aircall down for an installed company (5xx after the client's retries) is "failing", not uninstalled;
    the next pass that works clears it."""
    assert partner.install("acme").status_code == 200
    wait_for(lambda: partner.server.log().count("aircall.oauth_backfill_done") == 1)
    env = {"HOOKLINE_PUBLIC_URL": partner.server.url}
    assert installation_states(partner.db, "aircall") == {"acme": ("installed", None)}
    partner.fake.call(lambda: partner.fake.state.inject_failures(100, 503))
    down = partner.cli("aircall", "watchdog", "--once", env=env)
    assert "acme" in down.stdout + down.stderr
    state, failure = installation_states(partner.db, "aircall")["acme"]
    assert state == "failing" and failure is not None and "503" in failure, failure
    assert partner.accounts()["acme"]["installed"] is True  # still installed: its token is fine

    def since() -> float:
        with partner.db.connection() as conn:
            return float(conn.scalar("SELECT failing_since FROM oauth_installations WHERE account = 'acme'"))

    first = since()
    again = partner.cli("aircall", "watchdog", "--once", env=env)  # still down: failing since the first pass
    assert "acme" in again.stdout + again.stderr and since() == first
    partner.fake.call(lambda: partner.fake.state.clear_failures())
    up = partner.cli("aircall", "watchdog", "--once", env=env)
    assert up.returncode == 0, up.stdout + up.stderr
    assert installation_states(partner.db, "aircall") == {"acme": ("installed", None)}


def test_in_a_real_browser_install_two_companies_uninstall_and_reinstall(
    partner: Partner, browser: Any, engine: str  # noqa: F811
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        for company, name in (("acme", "Acme"), ("globex", "Globex")):
            partner.fake.call(lambda c=company: setattr(partner.fake.state, "oauth_installer", c))
            page.goto(partner.server.url + "/aircall/oauth/install")
            page.wait_for_url(partner.server.url + "/aircall/oauth/callback*")
            assert page.locator("h1").inner_text() == "Aircall connected"
            assert f"{name} is connected" in page.inner_text("body")
            assert page.evaluate("getComputedStyle(document.body).maxWidth") == "640px"  # its CSP allows its style
        page.screenshot(path=str(artifact(f"oauth-installed-{engine}.png")))
        tokens = {c: partner.webhooks(c)[0]["token"] for c in ("acme", "globex")}
        assert partner.post_event(tokens["acme"], 1).status_code == 200
        assert partner.post_event(tokens["globex"], 2).status_code == 200

        assert partner.uninstall("acme") == [200]
        wait_for(lambda: partner.accounts()["acme"]["installed"] is False)
        sign_in(page, partner.server, "/installations")  # the operator's view of every installation
        assert page.locator("nav a[href='/installations']").count() == 1
        assert page.get_attribute('#installations tr[data-account="acme"]', "data-state") == "uninstalled"
        assert "integration.deleted" in page.inner_text('#installations tr[data-account="acme"]')
        globex = page.locator('#installations tr[data-account="globex"]')
        assert globex.get_attribute("data-state") == "installed" and "ago" in globex.inner_text()
        page.screenshot(path=str(artifact(f"oauth-installations-{engine}.png")))
        partner.fake.call(lambda: setattr(partner.fake.state, "oauth_installer", "acme"))
        page.goto(partner.server.url + "/aircall/oauth/install")
        page.wait_for_url(partner.server.url + "/aircall/oauth/callback*")
        assert "Acme is reconnected" in page.inner_text("body")
        assert len(partner.webhooks("acme")) == 1 and partner.accounts()["acme"]["installed"] is True

        page.goto(page.url)  # the same callback loaded again: its state was used
        assert page.locator("h1").inner_text() == "Installation link expired"
    finally:
        context.close()

