"""The shared OAuth core on both engines: app settings, browser-bound single-use states,
installations, and what an uninstalled account loses (token, watchdog, archiver) and keeps."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hookline.oauth import installations
from hookline.oauth import state as oauth_state
from hookline.oauth.apps import AppStore, OAuthAppError
from hookline.oauth.exchange import ProviderDown, grant_from
from hookline.providers.aircall import recordings
from hookline.providers.aircall.accounts import AccountStore
from hookline.providers.aircall.oauth_install import save_install
from hookline.providers.aircall.tokens import TokenCache
from hookline.secretbox import SecretBox, new_key
from hookline.store.engine import Database

DEFAULTS = {"default_authorize_url": "https://auth.example/authorize", "default_api_url": "https://api.example"}


def test_app_secret_is_sealed_and_kept_across_updates(db: Database) -> None:
    box = SecretBox(new_key())
    store = AppStore(db, box)
    app = store.configure("aircall", client_id="id1", client_secret="s3cret", authorize_url=None,
                          api_url="http://127.0.0.1:9000/", **DEFAULTS)
    assert app.encrypted and "s3cret" not in app.sealed_secret and "s3cret" not in repr(app)
    assert app.authorize_url == "https://auth.example/authorize" and app.api_url == "http://127.0.0.1:9000"
    updated = store.configure("aircall", client_id="id2", client_secret=None, authorize_url=None, api_url=None,
                              **DEFAULTS)
    assert updated.client_id == "id2" and updated.api_url == "http://127.0.0.1:9000"
    stored = store.get("aircall")
    assert stored is not None and stored.client_secret(box) == "s3cret"
    with pytest.raises(OAuthAppError, match="cannot read"):
        stored.client_secret(SecretBox(new_key()))
    with pytest.raises(OAuthAppError, match="empty"):
        store.configure("aircall", client_id=" ", client_secret="x", authorize_url=None, api_url=None, **DEFAULTS)
    with pytest.raises(OAuthAppError, match="give --client-secret"):
        store.configure("calendly", client_id="c", client_secret=None, authorize_url=None, api_url=None, **DEFAULTS)


def test_state_is_single_use_bound_to_its_browser_and_expires(db: Database) -> None:
    browser = oauth_state.new_browser_id()
    state = oauth_state.issue(db, "aircall", browser)
    assert not oauth_state.consume(db, "aircall", state, None)
    assert not oauth_state.consume(db, "aircall", state, oauth_state.new_browser_id())  # another browser
    assert not oauth_state.consume(db, "calendly", state, browser)  # another provider's callback
    assert oauth_state.consume(db, "aircall", state, browser)  # the foreign tries did not spend it
    assert not oauth_state.consume(db, "aircall", state, browser)  # once
    old = oauth_state.issue(db, "aircall", browser, ttl=-1)
    assert not oauth_state.consume(db, "aircall", old, browser)
    oauth_state.issue(db, "aircall", browser)  # purges expired ones on the way
    with db.connection() as conn:
        assert conn.scalar("SELECT COUNT(*) FROM oauth_states") == 1
    oauth_state.issue(db, "aircall", browser, limit=2)
    with pytest.raises(oauth_state.TooManyPending):  # the public install route cannot fill the table
        oauth_state.issue(db, "aircall", browser, limit=2)


def test_grant_reads_refresh_tokens_and_expiry_for_later_providers() -> None:
    grant = grant_from({"access_token": "AT-123", "refresh_token": "RT-456", "expires_in": 7200, "scope": "x"},
                       now=100.0)
    assert (grant.refresh_token, grant.expires_at, grant.scope) == ("RT-456", 7300.0, "x")
    assert "AT-123" not in repr(grant) and "RT-456" not in repr(grant)
    assert grant_from({"access_token": "a", "token_type": "Bearer"}).expires_at is None
    with pytest.raises(ProviderDown):
        grant_from({"error": "nope"})


def _install(db: Database, box: SecretBox, company_id: str, integration: str, token: str) -> tuple[str, bool]:
    with db.connection() as conn, conn.transaction():
        return save_install(conn, box, company="Acme Inc.", company_id=company_id, integration_id=integration,
                            access_token="access-" + token, webhook_id="wh-" + token, webhook_token=token,
                            api_url="https://api.example")


def test_save_install_names_accounts_uniquely_and_reinstall_finds_its_account(db: Database) -> None:
    box = SecretBox(None)
    AccountStore(db, box).add("acme-inc", api_id="id", api_token="tok")  # an API-key account took the name
    assert _install(db, box, "1", "10", "t" * 32) == ("acme-inc-2", True)
    assert _install(db, box, "2", "20", "u" * 32) == ("acme-inc-3", True)
    assert _install(db, box, "1", "11", "v" * 32) == ("acme-inc-2", False)
    accounts = {a.name: a for a in AccountStore(db, box).all()}
    assert accounts["acme-inc-2"].scheme == "oauth" and accounts["acme-inc"].scheme == "basic"
    assert AccountStore(db, box).credentials("acme-inc-2").authorization() == "Bearer access-" + "v" * 32
    cache = TokenCache(db, 0)
    assert cache.account_for("t" * 32) is None  # the earlier install's webhook token is gone
    assert cache.account_for("v" * 32) == "acme-inc-2"


def test_uninstalled_account_loses_token_watchdog_and_archiver_not_its_rows(db: Database) -> None:
    box = SecretBox(None)
    name, _ = _install(db, box, "1", "10", "t" * 32)
    with db.connection() as conn, conn.transaction():
        recordings.want(conn, [(name, 1, "recording", time.time())])
        # A late event of an earlier integration, or a refusal of a token read before the install, is not ours.
        assert not installations.mark_uninstalled(conn, "aircall", name, "integration.deleted", integration_id="9")
        assert not installations.mark_uninstalled(conn, "aircall", name, "api_401", token_read_at=0.0)
        assert installations.mark_uninstalled(conn, "aircall", name, "integration.deleted", integration_id="10")
    store = AccountStore(db, box)
    assert [a.installed for a in store.all()] == [False]
    assert store.active_names() == []
    assert TokenCache(db, 0).account_for("t" * 32) is None
    with db.connection() as conn:
        assert recordings.claim(conn, "c1", 10, 60) == []
        assert conn.scalar("SELECT COUNT(*) FROM aircall_recordings") == 1  # kept for a re-install
        found = installations.get(conn, "aircall", name)
    assert found is not None and found.uninstall_reason == "integration.deleted"
    _install(db, box, "1", "11", "w" * 32)
    assert store.active_names() == [name]
    with db.connection() as conn:
        assert len(recordings.claim(conn, "c2", 10, 60)) == 1
    assert store.remove(name)  # forgetting the account forgets its installation
    with db.connection() as conn:
        assert installations.get(conn, "aircall", name) is None


def test_installations_page_rows_show_failing_and_webhook_states_of_every_provider(db: Database) -> None:
    from hookline.oauth.dashboard import rows
    from hookline.oauth.exchange import Grant
    from hookline.oauth.tokens import mark_failing
    from hookline.providers.calendly import oauth_install as calendly_install
    from hookline.providers.monday import oauth_install as monday_install
    from hookline.providers.registry import providers

    box = SecretBox(None)
    _install(db, box, "1", "10", "t" * 32)  # aircall: one webhook registered
    with db.connection() as conn, conn.transaction():
        calendly_install.save_install(conn, box, label="cal", org_uri="https://api.calendly.com/organizations/O1",
                                      user_uri="https://api.calendly.com/users/U1", grant=Grant("at", "rt", 1e12),
                                      api_url="https://api.calendly.com",
                                      subscription_uri="https://api.calendly.com/webhook_subscriptions/S1",
                                      callback_url="https://h/calendly/webhook")
        conn.execute("UPDATE calendly_subscriptions SET state = 'disabled'")
        monday_install.save_install(conn, box, label="Mon Co", account_id="42", access_token="mt",
                                    signing_secret="s", api_url="https://api.monday.com/v2")
    mark_failing(db, "calendly", "cal", "Calendly answered the token refresh with HTTP 503")
    with db.connection() as conn:
        found = {r["provider"]: r for r in rows(conn, providers())}
    assert found["aircall"]["state"] == "installed" and found["aircall"]["webhooks"] == "enabled"
    assert found["calendly"]["state"] == "failing" and found["calendly"]["webhooks"] == "disabled"
    assert "503" in found["calendly"]["failure"]
    assert found["monday"]["state"] == "installed" and found["monday"]["webhooks"] == "none"
    with db.connection() as conn, conn.transaction():  # a re-install clears the failure
        calendly_install.save_install(conn, box, label="cal", org_uri="https://api.calendly.com/organizations/O1",
                                      user_uri="https://api.calendly.com/users/U1", grant=Grant("at2", "rt2", 1e12),
                                      api_url="https://api.calendly.com",
                                      subscription_uri="https://api.calendly.com/webhook_subscriptions/S2",
                                      callback_url="https://h/calendly/webhook")
        assert installations.mark_uninstalled(conn, "monday", "mon-co", "app_uninstall")
    with db.connection() as conn:
        found = {r["provider"]: r for r in rows(conn, providers())}
    assert found["calendly"]["state"] == "installed" and found["calendly"]["webhooks"] == "enabled"
    assert found["monday"]["state"] == "uninstalled"


class _Counting:
    """A connection that counts the statements run through it (the page's queries, whatever they are)."""

    def __init__(self, conn: Any) -> None:
        self.conn, self.statements = conn, 0

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.conn, name)
        if name in ("execute", "fetchall", "fetchone", "scalar"):
            def counted(*args: Any, **kwargs: Any) -> Any:
                self.statements += 1
                return found(*args, **kwargs)
            return counted
        return found


def test_installations_page_reads_last_events_in_one_statement_for_any_number_of_rows(db: Database) -> None:
    """2,000 installations must not mean 2,000 `last_received` queries: the statements of a page are the
    same for 1 and for 6 rows, and each row gets its own newest webhook event (a backfilled one is not)."""
    from hookline.oauth.dashboard import rows
    from hookline.providers.registry import providers

    box = SecretBox(None)

    def page() -> tuple[dict[str, Any], int]:
        with db.connection() as conn:
            counting = _Counting(conn)
            found = {r["account"]: r for r in rows(counting, providers())}
        return found, counting.statements

    _install(db, box, "1", "10", "t" * 32)
    _, one = page()
    for n in range(2, 7):
        _install(db, box, str(n), str(n * 10), chr(ord("a") + n) * 32)
    with db.connection() as conn:
        for i, (account, at, origin) in enumerate([("acme-inc", 50.0, "webhook"), ("acme-inc", 70.0, "webhook"),
                                                   ("acme-inc-2", 60.0, "webhook"), ("acme-inc-2", 90.0, "backfill"),
                                                   ("acme-inc-3", 80.0, "backfill")]):
            conn.execute("INSERT INTO events (provider, account, event, received_at, dedup_key, last_seen_at, known,"
                         " origin, body) VALUES ('aircall', ?, 'call.created', ?, ?, 1, TRUE, ?, ?)",
                         (account, at, f"k{i}", origin, b"{}"))
    found, six = page()
    assert len(found) == 6 and six == one, (one, six)
    assert found["acme-inc"]["last_event_at"] == 70.0 and found["acme-inc-2"]["last_event_at"] == 60.0
    assert found["acme-inc-3"]["last_event_at"] is None and found["acme-inc-6"]["last_event_at"] is None
