"""`hookline aircall account ...` and `ping`, as users run them, against the fake Aircall API."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hookline.store.engine import Database
from tests.providers.aircall.conftest import FakeAircall


def _no_secret(result: Any, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr
    assert "Traceback" not in result.stderr


def test_add_list_ping_remove(cli: Callable[..., Any], fake_aircall: FakeAircall, db: Database) -> None:
    account = fake_aircall.account()
    added = cli("aircall", "account", "add", "acme", "--api-id", account.api_id, "--api-token", account.api_token)
    assert added.returncode == 0, added.stderr
    assert "unencrypted" in added.stdout
    _no_secret(added, account.api_token)

    listed = cli("aircall", "account", "list", "--json")
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["auth"], r["api_id"], r["secret"]) for r in rows] == [
        ("acme", "basic", account.api_id[:4] + "…", "stored")
    ]
    table = cli("aircall", "account", "list")
    _no_secret(listed, account.api_token, account.api_id)
    _no_secret(table, account.api_token, account.api_id)

    ping = cli("aircall", "ping")  # the only account: --account may be left out
    assert ping.returncode == 0 and "accepts the credentials of account acme" in ping.stdout
    assert fake_aircall.requests("GET", "/v1/ping")[-1].account == "acme"

    again = cli("aircall", "account", "add", "acme", "--api-id", "x", "--api-token", "y")
    assert again.returncode == 2 and "exists already" in again.stderr

    removed = cli("aircall", "account", "remove", "acme")
    assert removed.returncode == 0
    assert json.loads(cli("aircall", "account", "list", "--json").stdout) == []
    gone = cli("aircall", "ping", "--account", "acme")
    assert gone.returncode == 2 and "no Aircall account named 'acme'" in gone.stderr
    assert cli("aircall", "account", "remove", "acme").returncode == 2


def test_bad_credentials_are_a_clear_message(cli: Callable[..., Any], fake_aircall: FakeAircall, db: Database) -> None:
    account = fake_aircall.account()
    wrong = "wrong-token-0123456789abcdef"
    assert cli("aircall", "account", "add", "acme", "--api-id", account.api_id, "--api-token", wrong).returncode == 0
    ping = cli("aircall", "ping", "--account", "acme")
    assert ping.returncode == 1
    assert "Aircall rejected the credentials for account acme" in ping.stderr
    _no_secret(ping, wrong, account.api_token)

    # --replace fixes them; the token read from stdin never reaches the command line.
    fixed = cli(
        "aircall",
        "account",
        "add",
        "acme",
        "--replace",
        "--api-id",
        account.api_id,
        "--api-token",
        "-",
        input=account.api_token + "\n",
    )
    assert fixed.returncode == 0 and "updated" in fixed.stdout
    assert cli("aircall", "ping", "--account", "acme").returncode == 0


def test_oauth_and_choosing_among_accounts(cli: Callable[..., Any], fake_aircall: FakeAircall, db: Database) -> None:
    other = fake_aircall.call(lambda: fake_aircall.state.add_account("globex", oauth_token="oauth-globex-0123456789"))
    acme = fake_aircall.account()
    assert (
        cli("aircall", "account", "add", "globex", "--oauth-token", "-", input="oauth-globex-0123456789\n").returncode
        == 0
    )
    assert (
        cli("aircall", "account", "add", "acme", "--api-id", acme.api_id, "--api-token", acme.api_token).returncode == 0
    )
    which = cli("aircall", "ping")
    assert which.returncode == 2 and "2 accounts exist (acme, globex): choose one with --account" in which.stderr
    ping = cli("aircall", "ping", "--account", "globex")
    assert ping.returncode == 0, ping.stderr
    assert fake_aircall.requests("GET", "/v1/ping")[-1].account == other.name
    rows = {r["name"]: r for r in json.loads(cli("aircall", "account", "list", "--json").stdout)}
    assert rows["globex"]["auth"] == "oauth" and rows["globex"]["api_id"] is None

    both = cli("aircall", "account", "add", "x", "--api-id", "a", "--oauth-token", "b")
    assert both.returncode == 2 and "either" in both.stderr
    bad_name = cli("aircall", "account", "add", "no spaces", "--oauth-token", "b")
    assert bad_name.returncode == 2 and "invalid account name" in bad_name.stderr


def test_secret_encrypted_at_rest_with_a_key(cli: Callable[..., Any], fake_aircall: FakeAircall, db: Database) -> None:
    account = fake_aircall.account()
    key = {"HOOKLINE_SECRET_KEY": "correct horse battery staple 0123456789"}
    added = cli(
        "aircall", "account", "add", "acme", "--api-id", account.api_id, "--api-token", account.api_token, env=key
    )
    assert added.returncode == 0 and "encrypted" in added.stdout and "unencrypted" not in added.stdout
    with db.connection() as conn:
        stored = conn.scalar("SELECT secret FROM aircall_accounts WHERE name = ?", ("acme",))
    assert stored.startswith("scrypt:") and account.api_token not in stored
    assert json.loads(cli("aircall", "account", "list", "--json").stdout)[0]["secret"] == "encrypted"

    assert cli("aircall", "ping", env=key).returncode == 0
    no_key = cli("aircall", "ping")
    assert no_key.returncode == 2 and "set HOOKLINE_SECRET_KEY" in no_key.stderr
    wrong_key = cli("aircall", "ping", env={"HOOKLINE_SECRET_KEY": "another key entirely"})
    assert wrong_key.returncode == 2 and "not the key" in wrong_key.stderr
    _no_secret(wrong_key, account.api_token)
