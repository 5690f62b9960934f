"""The API base URL belongs to the account: what one terminal exports never changes what another
process calls (`account add --api-url`, `account update`, the setting as the default of new accounts)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hookline.providers.aircall.accounts import AccountStore
from hookline.providers.aircall.tokens import TokenStore
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import FakeAccount
from tests.providers.aircall.conftest import FakeAircall
from tests.support import Server, free_port

PUBLIC = "https://hooks.example.com"
ELSEWHERE = {"HOOKLINE_AIRCALL_API_URL": "http://127.0.0.1:9"}  # a closed port: a call there fails


def _add(cli: Callable[..., Any], account: FakeAccount, *extra: str, env: dict[str, str] | None = None) -> Any:
    return cli(
        "aircall", "account", "add", "acme", "--api-id", account.api_id, "--api-token", account.api_token, *extra,
        env=env,
    )


def _listed(cli: Callable[..., Any]) -> dict[str, Any]:
    (row,) = json.loads(cli("aircall", "account", "list", "--json", env=ELSEWHERE).stdout)
    return dict(row)


def test_serve_and_commands_call_the_accounts_own_url(
    start_server: Callable[..., Server], cli: Callable[..., Any], fake_aircall: FakeAircall, db: Database
) -> None:
    account = fake_aircall.account()
    added = _add(cli, account, "--api-url", fake_aircall.url, env=ELSEWHERE)
    assert added.returncode == 0, added.stderr
    assert f"API at {fake_aircall.url}" in added.stdout
    row = _listed(cli)
    assert (row["api_url"], row["api_url_from"]) == (fake_aircall.url, "account")
    assert fake_aircall.url in cli("aircall", "account", "list", env={**ELSEWHERE, "COLUMNS": "200"}).stdout

    # A serve whose environment points the setting elsewhere: its watchdog calls the account's URL.
    state = fake_aircall.state

    def deactivated() -> dict[str, Any]:
        hook = state.create_webhook(PUBLIC + "/aircall/webhook", ["call.created"], account="acme")
        state.set_webhook_active(hook["webhook_id"], False)
        return hook

    hook = fake_aircall.call(deactivated)
    server = start_server(env={**ELSEWHERE, "HOOKLINE_PUBLIC_URL": PUBLIC, "HOOKLINE_AIRCALL_WATCHDOG_INTERVAL": "0.3"})
    deadline = time.monotonic() + 30
    while not fake_aircall.call(lambda: state.webhook(hook["webhook_id"]))["active"]:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.1)
    assert "127.0.0.1:9" not in server.log()

    # And so do the commands.
    pinged = cli("aircall", "ping", env=ELSEWHERE)
    assert pinged.returncode == 0 and fake_aircall.url in pinged.stdout, pinged.stderr
    listed = cli("aircall", "webhooks", "list", "--json", env=ELSEWHERE)
    assert listed.returncode == 0 and hook["webhook_id"] in listed.stdout, listed.stderr

    # `account update` moves the account: every process follows from its next call.
    closed = f"http://127.0.0.1:{free_port()}"
    moved = cli("aircall", "account", "update", "acme", "--api-url", closed, env=ELSEWHERE)
    assert moved.returncode == 0, moved.stderr
    assert _listed(cli)["api_url"] == closed
    failed = cli("aircall", "ping")  # the fake's URL in the environment changes nothing
    assert failed.returncode == 1 and closed in failed.stderr
    assert cli("aircall", "account", "update", "acme", "--api-url", fake_aircall.url).returncode == 0
    assert cli("aircall", "ping", env=ELSEWHERE).returncode == 0


def test_the_setting_is_the_default_of_new_accounts_only(
    cli: Callable[..., Any], fake_aircall: FakeAircall, acme: FakeAccount, db: Database
) -> None:
    # `acme` was stored without a URL (as before this feature): it follows the setting of each process.
    row = _listed(cli)
    assert (row["api_url"], row["api_url_from"]) == ("http://127.0.0.1:9", "setting")
    assert cli("aircall", "ping").returncode == 0
    assert cli("aircall", "ping", env=ELSEWHERE).returncode == 1

    # --replace without --api-url keeps the account's URL (here: none, still the setting's).
    assert _add(cli, acme, "--replace").returncode == 0
    assert _listed(cli)["api_url_from"] == "setting"

    # A new account records the setting of the day it is added.
    other = fake_aircall.call(lambda: fake_aircall.state.add_account("globex", api_id="globex-id", api_token="g-tok"))
    added = cli("aircall", "account", "add", "globex", "--api-id", other.api_id, "--api-token", other.api_token)
    assert added.returncode == 0, added.stderr
    rows = {r["name"]: r for r in json.loads(cli("aircall", "account", "list", "--json", env=ELSEWHERE).stdout)}
    assert (rows["globex"]["api_url"], rows["globex"]["api_url_from"]) == (fake_aircall.url, "account")
    assert cli("aircall", "ping", "--account", "globex", env=ELSEWHERE).returncode == 0

    # --replace with --api-url changes it; without, it stays.
    replaced = cli(
        "aircall", "account", "add", "globex", "--replace", "--api-id", other.api_id, "--api-token", other.api_token,
        env=ELSEWHERE,
    )
    assert replaced.returncode == 0, replaced.stderr
    assert cli("aircall", "ping", "--account", "globex", env=ELSEWHERE).returncode == 0


def test_bad_urls_are_refused(cli: Callable[..., Any], fake_aircall: FakeAircall, acme: FakeAccount) -> None:
    for url in ("ftp://api.example.com", "https://user:pw@api.example.com", "http://h:99999"):
        refused = _add(cli, acme, "--replace", "--api-url", url)
        assert refused.returncode == 2, (url, refused.stderr)
        assert "API URL" in refused.stderr and "pw" not in refused.stderr and "Traceback" not in refused.stderr
    assert cli("aircall", "account", "update", "acme", "--api-url", "api.example.com").returncode == 2
    assert _listed(cli)["api_url_from"] == "setting"  # nothing stored
    missing = cli("aircall", "account", "update", "nobody", "--api-url", fake_aircall.url)
    assert missing.returncode == 2 and "no Aircall account named 'nobody'" in missing.stderr


def test_ping_of_a_closed_port_fails_fast_naming_the_url(
    cli: Callable[..., Any], fake_aircall: FakeAircall, acme: FakeAccount
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    pinged = cli("aircall", "ping", env={"HOOKLINE_AIRCALL_API_URL": closed})
    took = time.monotonic() - started
    assert pinged.returncode == 1, pinged.stderr
    assert closed in pinged.stderr and acme.api_token not in pinged.stderr and "Traceback" not in pinged.stderr
    assert took < 10, took


def test_the_archiver_reads_calls_at_the_accounts_url(
    start_server: Callable[..., Server], fake_aircall: FakeAircall, acme: FakeAccount, db: Database, tmp_path: Path
) -> None:
    from tests.providers.aircall.test_recordings import TOKEN, add_call, ended, recordings_env, wait_state
    from tests.support import post_events

    AccountStore(db, SecretBox(None)).set_api_url("acme", fake_aircall.url)
    TokenStore(db).add(TOKEN, "acme")
    add_call(fake_aircall, 5301)
    server = start_server(env=recordings_env(fake_aircall, tmp_path / "archive", **ELSEWHERE))
    post_events(server, ended(fake_aircall, 5301))
    with server.admin() as admin:
        wait_state(admin, 5301, "recording", "archived")
    assert [r.path for r in fake_aircall.requests("GET")] == ["/v1/calls/5301"]  # the fresh link, read there
