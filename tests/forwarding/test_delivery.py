"""Events reach a real local destination, signed, with the payload the docs promise."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from hookline.forwarding.destinations import DestinationStore
from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.forwarding.conftest import FAST, eventually, states, worker
from tests.ingest.test_aircall_webhook import OTHER_TOKEN, TOKEN, envelope
from tests.sink import Sink
from tests.support import Server, post_events


@pytest.fixture
def tokens(db: Database) -> None:
    TokenStore(db).add(TOKEN, "acme")
    TokenStore(db).add(OTHER_TOKEN, "globex")


def test_events_are_delivered_signed_with_the_documented_payload(
    db: Database, tokens: None, sink: Sink, start_server: Callable[..., Server]
) -> None:
    _dest, secret = DestinationStore(db).add("crm", sink.url)
    assert secret is not None and secret.startswith("whsec_")
    server = start_server(env=FAST)
    ids = post_events(server, envelope("call.created", call_id=1), envelope("call.ended", call_id=1, ts=1_763_900_060))
    assert sink.wait_for(lambda s: len(s.succeeded()) == 2)
    got = sorted(sink.succeeded(), key=lambda r: int(r.headers["hookline-event-id"]))
    for request, event_id in zip(got, ids, strict=True):
        assert Webhook(secret).verify(request.body, request.headers) == request.json
        assert request.headers["hookline-event-id"] == str(event_id)
        assert request.headers["content-type"] == "application/json"
        assert request.headers["webhook-id"].startswith("msg_")
    assert got[0].json == {
        "provider": "aircall",
        "account": "acme",
        "event": "call.created",
        "timestamp": 1_763_900_000,
        "data": {"id": 1, "direction": "inbound", "status": "initial"},
    }
    assert got[1].json["event"] == "call.ended" and got[1].json["timestamp"] == 1_763_900_060
    with pytest.raises(WebhookVerificationError):  # a wrong secret does not verify
        Webhook("whsec_" + "A" * 43 + "=").verify(got[0].body, got[0].headers)
    assert len({r.headers["webhook-id"] for r in got}) == 2
    assert eventually(lambda: states(db) == [("succeeded", 1, 200), ("succeeded", 1, 200)])


def test_filters_accounts_and_pause(
    db: Database, tokens: None, sink: Sink, start_server: Callable[..., Server]
) -> None:
    store = DestinationStore(db)
    store.add("calls", sink.url_for("calls"), events=["call.*"])
    store.add("acme-contacts", sink.url_for("acme-contacts"), events=["aircall:contact.*"], account="acme")
    store.add("calendly-only", sink.url_for("calendly-only"), events=["calendly:*"])
    store.set_paused("calls", True)
    server = start_server(env=FAST)
    post_events(
        server,
        envelope("call.created", call_id=1),
        envelope("contact.created", call_id=2),
        envelope("contact.created", call_id=3, token=OTHER_TOKEN),
        envelope("user.created", call_id=4),
    )
    assert sink.wait_for(lambda s: len(s.succeeded("acme-contacts")) == 1)
    assert sink.succeeded("calls") == []  # paused: queued, not sent
    assert eventually(lambda: sorted(r[0] for r in states(db)) == ["pending", "succeeded"])
    store.set_paused("calls", False)
    assert sink.wait_for(lambda s: len(s.succeeded("calls")) == 1)
    (contact,) = sink.succeeded("acme-contacts")
    assert contact.json["account"] == "acme" and contact.json["data"]["id"] == 2
    assert sink.succeeded("calls")[0].json["event"] == "call.created"
    assert sink.succeeded("calendly-only") == [] and len(sink.snapshot()) == 2


def test_destination_added_while_serving_gets_the_next_events(
    db: Database, tokens: None, sink: Sink, start_server: Callable[..., Server]
) -> None:
    server = start_server(env=FAST)
    post_events(server, envelope(call_id=1))  # before any destination: nothing to forward
    DestinationStore(db).add("late", sink.url)
    post_events(server, envelope(call_id=2))
    assert sink.wait_for(lambda s: len(s.succeeded()) == 1)
    assert sink.succeeded()[0].json["data"]["id"] == 2


def test_two_dispatchers_on_one_database_deliver_each_event_once(
    db: Database,
    database_url: str,
    tokens: None,
    sink: Sink,
    start_server: Callable[..., Server],
    engine: str,
    tmp_path: Path,
) -> None:
    """PostgreSQL: two servers, two dispatchers claiming side by side (SKIP LOCKED).
    SQLite: one server per file; a worker started next to it finds the dispatcher lock taken and idles."""
    DestinationStore(db).add("crm", sink.url)
    sink.delay = 0.01
    a = start_server(env=FAST)
    b = start_server(env=FAST) if engine == "postgresql" else a
    with worker(database_url, tmp_path / "worker.log"):
        for i in range(0, 120, 2):
            post_events(a, envelope(call_id=i))
            post_events(b, envelope(call_id=i + 1))
        assert eventually(lambda: len(states(db)) == 120 and all(s == "succeeded" for s, _, _ in states(db)), 20)
    hits = [r.json["data"]["id"] for r in sink.succeeded()]
    assert sorted(hits) == list(range(120))  # each event once: no two dispatchers took the same row
    worker_log = (tmp_path / "worker.log").read_text()
    assert ("another dispatcher runs on this SQLite database" in worker_log) == (engine == "sqlite")
    if engine == "postgresql":
        sent = [attempts(s) for s in (a, b)]
        assert sum(sent) <= 120 and min(sent) > 0, sent  # both servers' dispatchers did part of the work


def attempts(server: Server) -> float:
    with server.client() as c:
        text = c.get("/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("hookline_delivery_attempts_total")
    )


def test_a_separate_worker_process_delivers(
    db: Database, database_url: str, tokens: None, sink: Sink, start_server: Callable[..., Server], tmp_path: Path
) -> None:
    DestinationStore(db).add("crm", sink.url)
    server = start_server(env={**FAST, "HOOKLINE_FORWARDING_DISPATCHER": "false"})
    post_events(server, envelope(call_id=1))
    sink.wait_for(lambda s: False, 0.5)
    assert sink.snapshot() == [] and states(db) == [("pending", 0, None)]  # serve does not send
    with worker(database_url, tmp_path / "worker.log"):
        assert eventually(lambda: states(db) == [("succeeded", 1, 200)])
        post_events(server, envelope(call_id=2))  # woken by NOTIFY on PostgreSQL, by polling on SQLite
        assert eventually(lambda: len(sink.succeeded()) == 2)
    assert "dispatcher stopped" in (tmp_path / "worker.log").read_text()
