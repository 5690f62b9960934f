"""`hookline calendly ...` as users run it (subprocesses) against the fake Calendly, on both engines."""

from __future__ import annotations

import json
import time

from hookline.providers.calendly.keys import KeyStore
from hookline.providers.calendly.subscriptions import SubscriptionStore
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from hookline.testing.calendly.fake_api import DEFAULT_TOKEN, FakeCalendly
from tests.providers.fake_server import RunningApp
from tests.support import Server, run_cli

BOX = SecretBox(None)  # the servers and CLIs of these tests run without HOOKLINE_SECRET_KEY


def cli(database_url: str, api: str, *args: str):
    return run_cli("calendly", *args, database_url=database_url, env={"HOOKLINE_CALENDLY_API_URL": api})


def test_accounts_subscriptions_and_a_delivered_event(
    db: Database, database_url: str, server: Server, fake_calendly: tuple[FakeCalendly, RunningApp]
) -> None:
    fake, running = fake_calendly
    api = running.url
    added = cli(database_url, api, "account", "add", "acme", "--token", DEFAULT_TOKEN)
    assert added.returncode == 0, added.stderr
    assert DEFAULT_TOKEN not in added.stdout + added.stderr
    (account,) = json.loads(cli(database_url, api, "account", "list", "--json").stdout)
    assert account["name"] == "acme" and account["token"] == "fake…6789"
    assert account["organization"] == fake.organization_uri and account["user"] == fake.user_uri

    url = server.url + "/calendly/webhook"
    created = cli(database_url, api, "subscriptions", "create", "--url", url)
    assert created.returncode == 0, created.stderr
    (sub,) = fake.subscriptions.values()
    assert sub.events == ["invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted"]
    assert sub.scope == "user" and sub.signing_key and sub.signing_key not in created.stdout
    (key,) = KeyStore(db, BOX).entries("acme")
    assert KeyStore(db, BOX).secret(key.id) == sub.signing_key
    (managed,) = SubscriptionStore(db).all("acme")
    assert managed.uuid == sub.uuid and managed.key_id == key.id

    listed = json.loads(cli(database_url, api, "subscriptions", "list", "--json").stdout)
    assert [(s["id"], s["state"], s["managed"]) for s in listed] == [(sub.uuid, "active", True)]

    # Calendly delivers a booking, signed with the key hookline generated.
    payload = fake.add_booking("Ann Smith", "ann@example.com")
    assert running.call(fake.deliver("invitee.created", payload)) == [200]
    with db.connection() as conn:
        rows = conn.fetchall("SELECT account, event, resource_id FROM events")
    assert rows == [("acme", "invitee.created", payload["uri"])]

    deleted = cli(database_url, api, "subscriptions", "delete", sub.uuid)
    assert deleted.returncode == 0, deleted.stderr
    assert fake.subscriptions == {} and SubscriptionStore(db).all() == []
    (retired,) = KeyStore(db, BOX).entries("acme")
    assert retired.expires_at is not None and retired.expires_at > time.time() + 3600  # retries still verify

    removed = cli(database_url, api, "account", "remove", "acme")
    assert removed.returncode == 0 and json.loads(cli(database_url, api, "account", "list", "--json").stdout) == []
    assert KeyStore(db, BOX).entries() == []


def test_errors_are_clear_messages(
    db: Database, database_url: str, fake_calendly: tuple[FakeCalendly, RunningApp]
) -> None:
    fake, running = fake_calendly
    api = running.url

    def error(*args: str, api_url: str = api, code: int = 1) -> str:
        """The message of a failure: exit 1 at run time (the provider, the network), 2 for bad input."""
        result = cli(database_url, api_url, *args)
        assert result.returncode == code, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and DEFAULT_TOKEN not in result.stderr
        return result.stderr

    assert "no Calendly account yet" in error("subscriptions", "list", code=2)
    assert "The access token is invalid" in error("account", "add", "acme", "--token", "wrong-token-0123456789")
    assert "cannot reach Calendly" in error("account", "add", "acme", "--token", DEFAULT_TOKEN,
                                            api_url="http://127.0.0.1:9")
    assert cli(database_url, api, "account", "add", "acme", "--token", DEFAULT_TOKEN).returncode == 0
    assert "unknown event(s) invitee.teleported" in error(
        "subscriptions", "create", "--url", "https://h.example/calendly/webhook", "--events", "invitee.teleported",
        code=2,
    )
    assert "needs --scope organization" in error(
        "subscriptions", "create", "--url", "https://h.example/x", "--events", "routing_form_submission.created",
        code=2,
    )
    assert "--scope is user or organization" in error("subscriptions", "create", "--url", "https://h.example/x",
                                                      "--scope", "team", code=2)
    assert "http(s) URL" in error("subscriptions", "create", "--url", "ftp://h.example/x", code=2)
    ok = cli(database_url, api, "subscriptions", "create", "--url", "https://h.example/x", "--scope", "organization",
             "--events", "invitee.created,routing_form_submission.created")
    assert ok.returncode == 0, ok.stderr
    (sub,) = fake.subscriptions.values()
    assert sub.scope == "organization" and sub.events == ["invitee.created", "routing_form_submission.created"]
    assert "Hook with this url already exists" in error(
        "subscriptions", "create", "--url", "https://h.example/x", "--scope", "organization"
    )
    assert len(KeyStore(db, BOX).entries()) == 1  # the key made for the refused subscription was removed
    assert "Resource Not Found" in error("subscriptions", "delete", "NOSUCHUUID")
    assert "no Calendly account named 'globex'" in error("subscriptions", "list", "--account", "globex", code=2)
    assert "no Calendly account named 'globex'" in error("account", "remove", "globex", code=2)
    assert "use --once" in error("watchdog", code=2)


def test_tokens_and_keys_sealed_with_the_secret_key(
    db: Database, database_url: str, start_server, fake_calendly: tuple[FakeCalendly, RunningApp]
) -> None:
    fake, running = fake_calendly
    key = {"HOOKLINE_SECRET_KEY": "a-long-random-secret-key-for-tests-0123456789"}
    env = {"HOOKLINE_CALENDLY_API_URL": running.url, **key}
    server = start_server(env=key)
    assert run_cli("calendly", "account", "add", "acme", "--token", DEFAULT_TOKEN, database_url=database_url,
                   env=env).returncode == 0  # fmt: skip
    created = run_cli("calendly", "subscriptions", "create", "--url", server.url + "/calendly/webhook",
                      database_url=database_url, env=env)  # fmt: skip
    assert created.returncode == 0, created.stderr
    with db.connection() as conn:
        (token,) = conn.fetchone("SELECT token FROM calendly_accounts")
        (signing,) = conn.fetchone("SELECT signing_key FROM calendly_signing_keys")
    (sub,) = fake.subscriptions.values()
    assert token.startswith("scrypt:") and DEFAULT_TOKEN not in token
    assert signing.startswith("scrypt:") and sub.signing_key and sub.signing_key not in signing
    # serve opens the key to verify what Calendly signs with it
    assert running.call(fake.deliver("invitee.created", fake.add_booking())) == [200]
    other = {"HOOKLINE_SECRET_KEY": "another-key-entirely-0123456789"}
    wrong = run_cli("calendly", "subscriptions", "list", database_url=database_url, env={**env, **other})
    assert wrong.returncode == 2 and "not the key" in wrong.stderr and "Traceback" not in wrong.stderr
    server.stop()  # one serve per SQLite file
    confused = start_server(env=other, port=server.port)  # cannot open the key: Calendly is asked to retry
    payload = fake.add_booking("Later")
    assert running.call(fake.deliver("invitee.created", payload)) == [503]
    confused.stop()


def test_the_api_url_belongs_to_the_account(
    db: Database, database_url: str, fake_calendly: tuple[FakeCalendly, RunningApp]
) -> None:
    _, running = fake_calendly
    elsewhere = "http://127.0.0.1:9"  # the setting of these commands: a closed port

    added = cli(database_url, elsewhere, "account", "add", "acme", "--token", DEFAULT_TOKEN, "--api-url", running.url)
    assert added.returncode == 0, added.stderr
    (account,) = json.loads(cli(database_url, elsewhere, "account", "list", "--json").stdout)
    assert (account["api_url"], account["api_url_from"]) == (running.url, "account")
    created = cli(database_url, elsewhere, "subscriptions", "create", "--url", "https://h.example/calendly/webhook")
    assert created.returncode == 0, created.stderr
    # The watchdog (what `serve` runs) calls the account's URL too.
    checked = cli(database_url, elsewhere, "watchdog", "--once")
    assert checked.returncode == 0 and "1 checked" in checked.stdout, checked.stdout + checked.stderr

    # Added again without --api-url: the account keeps its URL.
    assert cli(database_url, elsewhere, "account", "add", "acme", "--token", DEFAULT_TOKEN).returncode == 0
    moved = cli(database_url, running.url, "account", "update", "acme", "--api-url", elsewhere)
    assert moved.returncode == 0, moved.stderr
    failed = cli(database_url, running.url, "subscriptions", "list")
    assert failed.returncode == 1 and f"cannot reach Calendly at {elsewhere}" in failed.stderr
    refused = cli(database_url, running.url, "account", "update", "acme", "--api-url", "ftp://x")
    assert refused.returncode == 2 and "invalid API URL" in refused.stderr
    assert cli(database_url, running.url, "account", "update", "nobody", "--api-url", running.url).returncode == 2
