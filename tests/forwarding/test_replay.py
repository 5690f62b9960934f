"""`hookline events replay`: past events get new deliveries, filtered by time, event and destination."""

from __future__ import annotations

import time
from collections.abc import Callable

from hookline.forwarding.destinations import DestinationStore
from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.forwarding.conftest import FAST, eventually, states
from tests.ingest.test_aircall_webhook import TOKEN, envelope
from tests.sink import Sink
from tests.support import Server, post_events, run_cli


def test_replay_sends_past_events_again(
    db: Database, database_url: str, sink: Sink, start_server: Callable[..., Server]
) -> None:
    TokenStore(db).add(TOKEN, "acme")
    server = start_server(env=FAST)
    post_events(server, *(envelope("call.created", call_id=i) for i in range(3)))
    middle = time.time()
    time.sleep(0.05)
    post_events(server, *(envelope("call.ended", call_id=i) for i in range(3)), envelope("contact.created", call_id=9))
    store = DestinationStore(db)
    store.add("crm", sink.url_for("crm"), events=["call.*"])
    store.add("all", sink.url_for("all"))
    assert states(db) == []  # added after the events: nothing to forward by itself

    only_ended = run_cli(
        "events", "replay", "--since", "0", "--event", "call.ended", "--to", "crm", database_url=database_url
    )
    assert only_ended.returncode == 0, only_ended.stderr
    assert "replayed 7 events: 3 deliveries created" in only_ended.stdout
    assert sink.wait_for(lambda s: len(s.succeeded("crm")) == 3)
    assert {r.json["event"] for r in sink.succeeded("crm")} == {"call.ended"}

    before = run_cli(
        "events", "replay", "--since", "2020-01-01T00:00:00Z", "--until", str(middle), database_url=database_url
    )
    assert before.returncode == 0, before.stderr
    assert "replayed 3 events: 6 deliveries created" in before.stdout  # 3 call.created x (crm, all)
    assert sink.wait_for(lambda s: len(s.succeeded()) == 9)
    assert sorted(r.json["event"] for r in sink.succeeded("all")) == ["call.created"] * 3
    assert eventually(lambda: len(states(db)) == 9 and all(s == "succeeded" for s, _, _ in states(db)))
    with db.connection() as conn:
        assert conn.scalar("SELECT count(*) FROM deliveries WHERE origin = 'replay'") == 9


def test_replay_without_destinations_says_so(db: Database, database_url: str) -> None:
    r = run_cli("events", "replay", "--since", "0", database_url=database_url)
    assert r.returncode == 2 and "no destination to replay to" in r.stderr and "Traceback" not in r.stderr
