"""monday.com OAuth installs end to end on both engines: a real `serve`, the fake monday.com
(authorize page, token exchange, `me`, `boards`, webhooks with the challenge, the app's uninstall
lifecycle event), and an HTTP client that keeps cookies like a browser, picking boards on the page."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hookline.store.engine import Database
from hookline.testing.monday.fake_api import FakeMonday
from tests.dashboard.conftest import browser  # noqa: F401  (the module's Chromium, a fixture)
from tests.dashboard.helpers import artifact, sign_in
from tests.providers.fake_server import RunningApp
from tests.support import Server, count_events, installation_states, run_cli, serve_oauth_app, wait_for

CLIENT_ID = "monday-client-id"
CLIENT_SECRET = "monday-client-secret-0123456789"
SIGNING = "monday-app-signing-secret-0123456789-0123456789-0123456789-abcdef"


@dataclass
class Partner:
    server: Server
    fake: FakeMonday
    running: RunningApp
    db: Database
    cli: Callable[..., Any]

    def call(self, fn: Callable[[], Any]) -> Any:
        async def run() -> Any:
            return fn()

        return self.running.call(run())

    def start(self, account: str, agent: httpx.Client) -> httpx.Response:
        """Install as `account` up to the board picker page."""
        self.call(lambda: setattr(self.fake, "oauth_installer", account))
        return agent.get(self.server.url + "/monday/oauth/install")

    def install(self, account: str, boards: int = 1) -> httpx.Response:
        """Install and pick the first `boards` boards; the final page."""
        with httpx.Client(follow_redirects=True, timeout=30) as agent:
            picker = self.start(account, agent)
            assert picker.status_code == 200, picker.text
            state = re.search(r'name="state" value="([^"]+)"', picker.text)
            assert state is not None
            choices = re.findall(r'name="choice" value="(\d+)"', picker.text)[:boards]
            return agent.post(self.server.url + "/monday/oauth/boards",
                              data={"state": state[1], "choice": choices})

    def accounts(self) -> dict[str, dict[str, Any]]:
        with self.db.connection() as conn:
            rows = conn.fetchall("SELECT i.account, i.installed, a.monday_account_id FROM oauth_installations i"
                                 " JOIN monday_accounts a ON a.name = i.account WHERE i.provider = 'monday'")
        return {str(a): {"installed": bool(i), "id": str(m)} for a, i, m in rows}

    def deliver(self, account: str) -> list[int]:
        board = next(iter(self.fake.oauth_accounts[account].boards))
        event = self.fake.event("create_pulse", board, pulseId=int(time.time() * 1000) % 10**9, pulseName="x")
        return list(self.running.call(self.fake.deliver("create_item", event)))

    def events(self, account: str) -> int:
        return count_events(self.db, "monday", account)


@pytest.fixture
def fake() -> Iterator[tuple[FakeMonday, RunningApp]]:
    fake = FakeMonday()
    fake.set_oauth_app(CLIENT_ID, CLIENT_SECRET, SIGNING)
    running = RunningApp(fake.app()).start()
    try:
        yield fake, running
    finally:
        running.stop()


@pytest.fixture
def partner(start_server: Callable[..., Server], fake: tuple[FakeMonday, RunningApp], db: Database,
            database_url: str) -> Partner:
    fake_api, running = fake

    def cli(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Any:
        return run_cli(*args, database_url=database_url, input=input, env=env)

    server = serve_oauth_app(start_server, cli, "monday",
                             ["--client-id", CLIENT_ID, "--client-secret", "-", "--signing-secret", "-",
                              "--authorize-url", running.url + "/oauth2/authorize", "--api-url", running.url + "/v2"],
                             f"{CLIENT_SECRET}\n{SIGNING}\n")
    fake_api.lifecycle_url = server.url + "/monday/oauth/lifecycle"
    return Partner(server, fake_api, running, db, cli)


def test_configure_and_show_never_print_the_secrets(partner: Partner) -> None:
    shown = partner.cli("monday", "oauth", "show", "--json", env={"HOOKLINE_PUBLIC_URL": "https://h.example"})
    assert shown.returncode == 0, shown.stderr
    row = json.loads(shown.stdout)
    assert row["client_id"] == CLIENT_ID and row["signing_secret"] == "stored"
    assert row["install_uri"] == "https://h.example/monday/oauth/install"
    assert CLIENT_SECRET not in shown.stdout and SIGNING not in shown.stdout


def test_install_picks_boards_and_events_of_two_accounts_flow(partner: Partner) -> None:
    with httpx.Client(timeout=10) as agent:
        first = agent.get(partner.server.url + "/monday/oauth/install")
    query = {k: v[0] for k, v in parse_qs(urlsplit(first.headers["location"]).query).items()}
    assert first.status_code == 302 and query["client_id"] == CLIENT_ID and len(query["state"]) >= 32
    done = partner.install("acme", boards=2)
    assert done.status_code == 200, done.text
    assert "2 board(s) of acme" in done.text
    assert partner.install("globex").status_code == 200
    assert {a: v["installed"] for a, v in partner.accounts().items()} == {"acme": True, "globex": True}
    listed = partner.cli("monday", "account", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {r["name"]: (r["auth"], r["installed"]) for r in json.loads(listed.stdout)} == {
        "acme": ("oauth", True), "globex": ("oauth", True)}
    hooks = partner.call(lambda: partner.fake.hooks_of("acme"))
    assert len({h.board_id for h in hooks}) == 2 and len(hooks) == 10
    assert all(h.url.endswith("/monday/webhook?account=acme") for h in hooks)
    assert partner.deliver("acme") == [200]
    assert partner.deliver("globex") == [200]
    assert (partner.events("acme"), partner.events("globex")) == (1, 1)
    log = partner.server.log()
    assert CLIENT_SECRET not in log and SIGNING not in log and "mon-at-" not in log


def test_uninstall_event_stops_the_account_and_reinstall_brings_it_back(partner: Partner) -> None:
    assert partner.install("acme").status_code == 200
    assert partner.install("globex").status_code == 200
    assert partner.deliver("acme") == [200]
    assert partner.running.call(partner.fake.uninstall("acme")) == 200
    assert partner.accounts()["acme"]["installed"] is False
    wait_for(lambda: partner.deliver("acme") == [401])  # its events are no longer accepted
    assert partner.deliver("globex") == [200]
    assert partner.events("acme") == 1  # its data stays
    # A forged lifecycle event (not signed with the app's secret) does nothing.
    forged = httpx.post(partner.server.url + "/monday/oauth/lifecycle", json={"type": "uninstall", "data": {
        "account_id": partner.accounts()["globex"]["id"]}}, headers={"authorization": "x.y.z"})
    assert forged.status_code == 401 and partner.accounts()["globex"]["installed"] is True
    again = partner.install("acme")
    assert again.status_code == 200 and partner.accounts()["acme"]["installed"] is True
    assert len(partner.call(lambda: partner.fake.hooks_of("acme"))) == 5  # the board's webhooks were kept
    wait_for(lambda: partner.deliver("acme") == [200])


def test_a_replayed_uninstall_token_is_refused_across_restarts(partner: Partner) -> None:
    assert partner.install("acme").status_code == 200
    assert partner.install("globex").status_code == 200
    url = partner.server.url + "/monday/oauth/lifecycle"
    token = partner.call(lambda: partner.fake.jwt(url))
    ids = {name: row["id"] for name, row in partner.accounts().items()}

    def post(account: str) -> httpx.Response:
        return httpx.post(url, json={"type": "uninstall", "data": {"account_id": ids[account]}},
                          headers={"authorization": token}, timeout=10)

    assert post("acme").status_code == 200 and partner.accounts()["acme"]["installed"] is False
    # The same token (still valid) naming another account: refused, by this process and after a restart.
    replayed = post("globex")
    assert replayed.status_code == 401 and replayed.json() == {"ok": False}, partner.server.log()[-4000:]
    partner.server.stop()
    partner.server.start()
    assert post("globex").status_code == 401
    assert partner.accounts()["globex"]["installed"] is True
    assert "monday.lifecycle_replayed" in partner.server.log() and token not in partner.server.log()
    # A fresh token of monday.com's is accepted.
    assert partner.running.call(partner.fake.uninstall("globex")) == 200
    assert partner.accounts()["globex"]["installed"] is False


def test_lifecycle_tokens_are_remembered_once_until_they_expire(db: Database, database_url: str) -> None:
    from hookline.providers.monday.oauth_install import first_use

    other = Database(database_url)  # another process's connection to the same database
    try:
        with db.connection() as conn, conn.transaction():
            assert first_use(conn, "token-a", time.time() + 60)
        with other.connection() as conn, conn.transaction():
            assert not first_use(conn, "token-a", time.time() + 60)
            assert first_use(conn, "token-b", time.time() - 1)  # already past its expiry
        with db.connection() as conn, conn.transaction():
            assert first_use(conn, "token-c", time.time() + 60)  # purges token-b on the way
            digests = {str(d) for (d,) in conn.fetchall("SELECT digest FROM monday_lifecycle_tokens")}
        assert len(digests) == 2 and "token-a" not in digests  # digests, never the tokens
    finally:
        other.close()


def test_a_refused_token_while_picking_boards_uninstalls(partner: Partner) -> None:
    with httpx.Client(follow_redirects=True, timeout=30) as agent:
        picker = partner.start("acme", agent)
        state = re.search(r'name="state" value="([^"]+)"', picker.text)
        assert state is not None
        partner.call(lambda: partner.fake.access_tokens.clear())  # revoked at monday.com
        board = re.findall(r'name="choice" value="(\d+)"', picker.text)[0]
        refused = agent.post(partner.server.url + "/monday/oauth/boards", data={"state": state[1], "choice": board})
        assert refused.status_code == 401 and "Install the app again" in refused.text
        replayed = agent.post(partner.server.url + "/monday/oauth/boards", data={"state": state[1]})
        assert replayed.status_code == 400
    assert partner.accounts()["acme"]["installed"] is False


def test_monday_down_while_creating_webhooks_marks_the_installation_failing(partner: Partner) -> None:
    """Installed, but its boards' webhooks could not be made (monday.com answered 500): the Installations
    page says failing, with why; a later install that makes them clears it."""
    with httpx.Client(follow_redirects=True, timeout=30) as agent:
        picker = partner.start("acme", agent)
        state = re.search(r'name="state" value="([^"]+)"', picker.text)
        assert state is not None
        partner.call(lambda: setattr(partner.fake, "api_down", True))
        board = re.findall(r'name="choice" value="(\d+)"', picker.text)[0]
        down = agent.post(partner.server.url + "/monday/oauth/boards", data={"state": state[1], "choice": board})
    assert down.status_code == 502 and "monday.com is unavailable" in down.text
    found = installation_states(partner.db, "monday")
    assert found["acme"][0] == "failing" and "500" in str(found["acme"][1]), found
    assert partner.accounts()["acme"]["installed"] is True
    partner.call(lambda: setattr(partner.fake, "api_down", False))
    assert partner.install("acme").status_code == 200
    assert installation_states(partner.db, "monday") == {"acme": ("installed", None)}


def test_errors_end_on_clear_pages_and_make_nothing(partner: Partner) -> None:
    partner.call(lambda: setattr(partner.fake, "oauth_deny", True))
    with httpx.Client(follow_redirects=True, timeout=10) as agent:
        denied = partner.start("acme", agent)
    assert denied.status_code == 403 and "did not allow access" in denied.text
    partner.call(lambda: setattr(partner.fake, "oauth_deny", False))
    with httpx.Client(timeout=10) as agent:
        to_monday = agent.get(partner.server.url + "/monday/oauth/install")
        callback = httpx.get(to_monday.headers["location"], timeout=10).headers["location"]
        assert httpx.get(callback, timeout=10).status_code == 400  # another browser
        wrong = agent.get(callback.replace("state=", "state=x"))
        assert wrong.status_code == 400 and "expired" in wrong.text
    partner.call(lambda: setattr(partner.fake, "token_down", True))
    with httpx.Client(follow_redirects=True, timeout=10) as agent:
        down = partner.start("acme", agent)
    assert down.status_code == 502 and "monday.com is unavailable" in down.text
    assert partner.accounts() == {}
    assert "Traceback" not in partner.server.log()


def test_an_expired_or_replayed_code_ends_on_a_clear_page_and_makes_nothing(partner: Partner) -> None:
    partner.call(lambda: setattr(partner.fake, "oauth_code_ttl", -1.0))  # expired before it comes back
    with httpx.Client(follow_redirects=True, timeout=30) as agent:
        expired = partner.start("acme", agent)
    assert expired.status_code == 400 and "expired or was used already" in expired.text
    assert partner.accounts() == {}
    partner.call(lambda: setattr(partner.fake, "oauth_code_ttl", 600.0))
    with httpx.Client(timeout=30) as agent:
        to_monday = agent.get(partner.server.url + "/monday/oauth/install")
        callback = httpx.get(to_monday.headers["location"], timeout=10).headers["location"]
        assert agent.get(callback).status_code == 200  # the install, up to the board picker
        code = parse_qs(urlsplit(callback).query)["code"][0]
        # The same code again, with a fresh state of this browser: monday.com refuses a spent code.
        again = agent.get(partner.server.url + "/monday/oauth/install")
        state = parse_qs(urlsplit(again.headers["location"]).query)["state"][0]
        replayed = agent.get(partner.server.url + "/monday/oauth/callback", params={"code": code, "state": state})
    assert replayed.status_code == 400 and "expired or was used already" in replayed.text
    assert list(partner.accounts()) == ["acme"]  # the first install, nothing more
    assert "Traceback" not in partner.server.log()


def test_too_many_pending_installs_at_the_board_picker_make_nothing(partner: Partner) -> None:
    """The picker's state is issued in the install's transaction: when the table of pending states
    is full by then, the admin gets the clear page and no account is kept (not a 500 after the write)."""
    from hookline.oauth import state as oauth_state

    def pending(n: int, start: int) -> None:  # other browsers' unfinished installs
        rows = [(f"{i:064x}", "other", f"{i:064x}", time.time() + 600, None) for i in range(start, start + n)]
        with partner.db.connection() as conn, conn.transaction():
            conn.insert_many("oauth_states", ("state_sha256", "provider", "browser_sha256", "expires_at", "payload"),
                             rows)

    pending(oauth_state.MAX_PENDING - 1, 0)  # room for this install's own state, no more
    with httpx.Client(timeout=30) as agent:
        to_monday = agent.get(partner.server.url + "/monday/oauth/install")
        assert to_monday.status_code == 302
        pending(1, oauth_state.MAX_PENDING)  # another browser starts an install meanwhile: the table is full
        callback = httpx.get(to_monday.headers["location"], timeout=10).headers["location"]
        full = agent.get(callback)
    assert full.status_code == 429 and "Too many installations" in full.text and "nothing was installed" in full.text
    assert partner.accounts() == {}
    assert "Traceback" not in partner.server.log()
    with partner.db.connection() as conn, conn.transaction():
        conn.execute(oauth_state.Q.purge_expired_states, (time.time() + 3600,))  # they give up
    assert partner.install("acme").status_code == 200


def test_every_board_is_offered_page_after_page(partner: Partner) -> None:
    partner.call(lambda: setattr(partner.fake, "oauth_boards", 230))  # more than two pages of boards
    with httpx.Client(follow_redirects=True, timeout=30) as agent:
        picker = partner.start("acme", agent)
        assert picker.status_code == 200, picker.text
        choices = re.findall(r'name="choice" value="(\d+)"', picker.text)
        assert len(choices) == len(set(choices)) == 230
        state = re.search(r'name="state" value="([^"]+)"', picker.text)
        assert state is not None
        last = choices[-1]  # past the first 200
        done = agent.post(partner.server.url + "/monday/oauth/boards", data={"state": state[1], "choice": [last]})
    assert done.status_code == 200, done.text
    assert {h.board_id for h in partner.call(lambda: partner.fake.hooks_of("acme"))} == {last}


def install_in_browser(page: Any, partner: Partner, account: str) -> None:
    """An admin of `account` installs the app and keeps the first board offered."""
    partner.call(lambda: setattr(partner.fake, "oauth_installer", account))
    page.goto(partner.server.url + "/monday/oauth/install")
    page.wait_for_url(partner.server.url + "/monday/oauth/callback*")
    page.locator("input[name=choice]").nth(0).check()
    page.click("button[type=submit]")
    page.wait_for_url(partner.server.url + "/monday/oauth/boards")


def test_in_a_real_browser_two_installs_an_uninstall_and_a_reinstall(
    partner: Partner, browser: Any, engine: str  # noqa: F811
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(partner.server.url + "/monday/oauth/install")
        page.wait_for_url(partner.server.url + "/monday/oauth/callback*")
        assert page.locator("h1").inner_text() == "monday.com connected"
        boxes = page.locator("input[name=choice]")
        assert boxes.count() == 3
        boxes.nth(0).check()
        boxes.nth(2).check()
        page.screenshot(path=str(artifact(f"oauth-monday-boards-{engine}.png")))
        page.click("button[type=submit]")
        page.wait_for_url(partner.server.url + "/monday/oauth/boards")
        assert page.locator("h1").inner_text() == "Boards connected"
        assert "2 board(s) of acme" in page.inner_text("body")
        assert len({h.board_id for h in partner.call(lambda: partner.fake.hooks_of("acme"))}) == 2
        assert partner.deliver("acme") == [200]
        page.go_back()  # the callback again (its page is not cached): its state was used
        assert page.locator("h1").inner_text() == "Installation link expired"
        sign_in(page, partner.server, "/installations")
        acme = page.locator('#installations tr[data-account="acme"]')
        assert acme.get_attribute("data-state") == "installed" and acme.get_attribute("data-webhooks") == "enabled"
        assert acme.get_attribute("data-provider") == "monday"
        page.screenshot(path=str(artifact(f"oauth-monday-installations-{engine}.png")))
        # A second company installs in the browser too; both send events.
        install_in_browser(page, partner, "globex")
        assert "1 board(s) of globex" in page.inner_text("body")
        assert partner.deliver("globex") == [200] and partner.events("globex") == 1
        # acme uninstalls the app (monday.com's signed lifecycle event): its events are refused, its data stays.
        assert partner.running.call(partner.fake.uninstall("acme")) == 200
        page.goto(partner.server.url + "/installations")
        assert page.get_attribute('#installations tr[data-account="acme"]', "data-state") == "uninstalled"
        assert page.get_attribute('#installations tr[data-account="globex"]', "data-state") == "installed"
        wait_for(lambda: partner.deliver("acme") == [401])
        assert partner.events("acme") == 1
        # ... and installs it again in the browser: the same account, receiving again.
        install_in_browser(page, partner, "acme")
        page.goto(partner.server.url + "/installations")
        assert page.get_attribute('#installations tr[data-account="acme"]', "data-state") == "installed"
        assert page.locator("#installations tr[data-account]").count() == 2
        wait_for(lambda: partner.deliver("acme") == [200])
        assert partner.events("acme") == 2
    finally:
        context.close()
