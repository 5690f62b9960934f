"""`hookline monday ...` (subprocesses) against the fake monday.com, which performs the challenge
handshake with the real hookline server and then delivers JWT-signed events to it."""

from __future__ import annotations

import json

from hookline.store.engine import Database
from hookline.testing.monday.fake_api import DEFAULT_BOARD, DEFAULT_TOKEN, FakeMonday
from tests.providers.fake_server import RunningApp
from tests.providers.monday.conftest import SECRET
from tests.support import Server, free_port, run_cli


def cli(database_url: str, api: str, *args: str):
    return run_cli("monday", *args, database_url=database_url, env={"HOOKLINE_MONDAY_API_URL": api + "/v2"})


def test_accounts_webhooks_handshake_and_signed_events(
    db: Database, database_url: str, server: Server, fake_monday: tuple[FakeMonday, RunningApp]
) -> None:
    fake, running = fake_monday
    api = running.url
    added = cli(database_url, api, "account", "add", "acme", "--token", DEFAULT_TOKEN, "--signing-secret", SECRET)
    assert added.returncode == 0, added.stderr
    assert DEFAULT_TOKEN not in added.stdout and SECRET not in added.stdout
    (account,) = json.loads(cli(database_url, api, "account", "list", "--json").stdout)
    assert (account["name"], account["token"], account["signing_secret"]) == ("acme", "fake…6789", True)
    assert account["monday_account_id"] == "9000001"

    created = cli(database_url, api, "webhooks", "create", "--board", DEFAULT_BOARD, "--event", "create_item",
                  "--url", server.url + "/monday/webhook")
    assert created.returncode == 0, created.stderr
    (hook,) = fake.webhooks.values()  # created only because hookline answered the challenge
    assert hook.url == server.url + "/monday/webhook?account=acme" and hook.event == "create_item"
    listed = json.loads(cli(database_url, api, "webhooks", "list", "--board", DEFAULT_BOARD, "--json").stdout)
    assert listed == [{"id": hook.id, "board_id": DEFAULT_BOARD, "event": "create_item", "config": None}]

    event = fake.event("create_pulse", pulseId=111, pulseName="Task 1", groupId="topics")
    assert running.call(fake.deliver("create_item", event)) == [200]
    with db.connection() as conn:
        assert conn.fetchall("SELECT account, event, resource_id FROM events") == [("acme", "create_pulse", "111")]

    deleted = cli(database_url, api, "webhooks", "delete", hook.id)
    assert deleted.returncode == 0, deleted.stderr
    assert fake.webhooks == {}
    with db.connection() as conn:
        assert conn.fetchall("SELECT id FROM monday_webhooks") == []
    assert cli(database_url, api, "account", "remove", "acme").returncode == 0


def test_errors_are_clear_messages(db: Database, database_url: str, fake_monday: tuple[FakeMonday, RunningApp]) -> None:
    fake, running = fake_monday
    api = running.url

    def error(*args: str, api_url: str = api, code: int = 1) -> str:
        """The message of a failure: exit 1 at run time (the provider, the network), 2 for bad input."""
        result = cli(database_url, api_url, *args)
        assert result.returncode == code, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and DEFAULT_TOKEN not in result.stderr
        return result.stderr

    assert "no monday.com account yet" in error("webhooks", "list", "--board", DEFAULT_BOARD, code=2)
    assert "refused the API token" in error("account", "add", "acme", "--token", "wrong-token-0123456789")
    assert "cannot reach monday.com" in error("account", "add", "acme", "--token", DEFAULT_TOKEN,
                                              api_url="http://127.0.0.1:9")
    assert "no spaces" in error("account", "add", "ac me", "--token", DEFAULT_TOKEN, code=2)
    assert cli(database_url, api, "account", "add", "acme", "--token", DEFAULT_TOKEN).returncode == 0
    url = f"http://127.0.0.1:{free_port()}/monday/webhook"  # nobody answers the challenge there
    assert "unknown event 'create_thing'" in error("webhooks", "create", "--board", "1", "--event", "create_thing",
                                                   "--url", url, code=2)
    assert "Board not found" in error("webhooks", "create", "--board", "42", "--event", "create_item", "--url", url)
    assert "Failed to communicate with URL" in error("webhooks", "create", "--board", DEFAULT_BOARD, "--event",
                                                     "create_item", "--url", url)
    assert "--config must be JSON" in error("webhooks", "create", "--board", DEFAULT_BOARD, "--event",
                                            "change_specific_column_value", "--url", url, "--config", "{nope", code=2)
    assert "Webhook not found" in error("webhooks", "delete", "123")
    assert fake.webhooks == {}


def test_the_api_url_belongs_to_the_account(
    db: Database, database_url: str, fake_monday: tuple[FakeMonday, RunningApp]
) -> None:
    _, running = fake_monday
    elsewhere = "http://127.0.0.1:9"  # cli() appends /v2: the setting of these commands is a closed port
    endpoint = running.url + "/v2"

    added = cli(database_url, elsewhere, "account", "add", "acme", "--token", DEFAULT_TOKEN, "--api-url", endpoint)
    assert added.returncode == 0, added.stderr
    (account,) = json.loads(cli(database_url, elsewhere, "account", "list", "--json").stdout)
    assert (account["api_url"], account["api_url_from"]) == (endpoint, "account")
    listed = cli(database_url, elsewhere, "webhooks", "list", "--board", DEFAULT_BOARD, "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == [], listed.stderr

    assert cli(database_url, elsewhere, "account", "add", "acme", "--token", DEFAULT_TOKEN).returncode == 0
    moved = cli(database_url, running.url, "account", "update", "acme", "--api-url", elsewhere + "/v2")
    assert moved.returncode == 0, moved.stderr
    failed = cli(database_url, running.url, "webhooks", "list", "--board", DEFAULT_BOARD)
    assert failed.returncode == 1 and f"cannot reach monday.com at {elsewhere}/v2" in failed.stderr
    refused = cli(database_url, running.url, "account", "update", "acme", "--api-url", "https://u:p@x.example")
    assert refused.returncode == 2 and "credentials" in refused.stderr
