"""The outbound policy applied to destinations: refused when given (CLI exit 2), refused again when the
name resolves to a denied address at send time (dead at once, nothing sent), credentials in a URL
masked in every listing. Loopback stands in for a denied network, so nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable

from hookline.forwarding.destinations import DestinationStore
from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.dashboard.helpers import signed_in
from tests.forwarding.conftest import FAST, eventually
from tests.ingest.test_aircall_webhook import TOKEN, envelope
from tests.sink import Sink
from tests.support import Server, post_events, run_cli

DENY_LOOPBACK = {"HOOKLINE_OUTBOUND_DENY_CIDRS": "127.0.0.0/8,::1/128"}


def deliveries(db: Database) -> list[tuple[str, int, str | None]]:
    with db.connection() as conn:
        return [tuple(r) for r in conn.fetchall("SELECT state, attempts, last_error FROM deliveries ORDER BY id")]


def test_cli_refuses_a_name_resolving_to_a_denied_address(db: Database, database_url: str) -> None:
    refused = run_cli(
        "destinations", "add", "crm", "--url", "http://localhost:9/hook", database_url=database_url, env=DENY_LOOPBACK
    )
    assert refused.returncode == 2 and "refused URL" in refused.stderr and "localhost (resolves to" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert DestinationStore(db).list() == []
    bad = run_cli("destinations", "list", database_url=database_url, env={"HOOKLINE_OUTBOUND_DENY_CIDRS": "nope"})
    assert bad.returncode == 2 and "is not an IP network" in bad.stderr  # a bad setting is bad input


def test_a_name_re_pointed_to_a_denied_address_is_dead_at_once_and_never_connected(
    db: Database, sink: Sink, start_server: Callable[..., Server]
) -> None:
    TokenStore(db).add(TOKEN, "acme")
    DestinationStore(db).add("crm", f"http://localhost:{sink.port}/hook")  # allowed when it was given
    server = start_server(env={**FAST, **DENY_LOOPBACK})  # ... and the name now points somewhere denied
    post_events(server, envelope(call_id=1))
    rows = eventually(lambda: [r for r in deliveries(db) if r[0] == "dead"], 15)
    assert len(rows) == 1, deliveries(db)
    _state, attempts, error = rows[0]
    assert attempts == 1  # permanent: not retried
    assert error is not None and error.startswith("not sent: localhost (resolves to") and "DENY_CIDRS" in error
    assert sink.snapshot() == []


def test_credentials_in_a_url_are_masked_in_every_listing(db: Database, database_url: str, server: Server) -> None:
    added = run_cli(
        "destinations", "add", "crm", "--url", "https://hook-user:pa55word@crm.example/in", database_url=database_url
    )
    assert added.returncode == 0, added.stderr
    assert "pa55word" not in added.stdout and "hook-user:***@crm.example" in added.stdout
    assert DestinationStore(db).get("crm").url == "https://hook-user:pa55word@crm.example/in"  # kept, to be used
    listed = run_cli("destinations", "list", "--json", database_url=database_url)
    assert json.loads(listed.stdout)[0]["url"] == "https://hook-user:***@crm.example/in"
    table = run_cli("destinations", "list", database_url=database_url)
    assert "pa55word" not in table.stdout and "hook-user:***" in table.stdout  # the table may fold the rest
    with server.admin() as c:
        api = c.get("/api/destinations")
        assert api.status_code == 200 and "pa55word" not in api.text
        assert api.json()["destinations"][0]["url"] == "https://hook-user:***@crm.example/in"
    with signed_in(server) as browser:
        page = browser.get("/destinations")
        assert page.status_code == 200 and "pa55word" not in page.text and "hook-user:***@crm.example" in page.text
