"""--ordered: one resource's deliveries go out in occurred_at order, one at a time, even across a retry."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from hookline.forwarding.destinations import DestinationStore
from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.forwarding.conftest import FAST, all_in, eventually, states
from tests.ingest.test_aircall_webhook import TOKEN, envelope
from tests.sink import Answer, Received, Sink
from tests.support import Server, post_events

BASE = 1_763_900_000


def test_ordered_destination_sends_each_call_in_occurred_order(
    db: Database, sink: Sink, start_server: Callable[..., Server]
) -> None:
    TokenStore(db).add(TOKEN, "acme")
    store = DestinationStore(db)
    store.add("ordered", sink.url, ordered=True)
    store.set_paused("ordered", True)  # let events pile up in arrival order, which is not occurred order
    server = start_server(env=FAST)
    arrivals = [(1, 5), (1, 3), (2, 2), (1, 4), (1, 1), (2, 1), (1, 2), (3, 7)]
    post_events(server, *(envelope("call.updated", call_id=c, ts=BASE + t) for c, t in arrivals))
    sink.delay = 0.05  # long enough to see two requests of one call overlap, if they did
    failed_once: set[int] = set()

    def fail_call1_t2_once(r: Received) -> Answer | None:
        body = r.json
        if body["data"]["id"] == 1 and body["timestamp"] == BASE + 2 and not failed_once:
            failed_once.add(1)
            return Answer(503)
        return None

    sink.rule = fail_call1_t2_once
    store.set_paused("ordered", False)
    assert eventually(lambda: all_in(db, "succeeded", len(arrivals)), 20), states(db)

    by_call: dict[int, list[Received]] = {}
    for r in sorted(sink.snapshot(), key=lambda r: r.at):
        by_call.setdefault(r.json["data"]["id"], []).append(r)
    sent = {c: [(r.json["timestamp"] - BASE, r.status) for r in rs] for c, rs in by_call.items()}
    assert sent[1] == [(1, 200), (2, 503), (2, 200), (3, 200), (4, 200), (5, 200)]
    assert sent[2] == [(1, 200), (2, 200)] and sent[3] == [(7, 200)]
    for rs in by_call.values():  # one at a time: each request starts after the previous one ended
        assert all(later.at >= earlier.finished_at for earlier, later in itertools.pairwise(rs))
    assert sink.max_in_flight >= 2  # different calls did go in parallel


def test_unordered_destination_does_not_wait(db: Database, sink: Sink, start_server: Callable[..., Server]) -> None:
    TokenStore(db).add(TOKEN, "acme")
    DestinationStore(db).add("fast", sink.url)
    sink.delay = 0.2
    server = start_server(env=FAST)
    post_events(server, *(envelope("call.updated", call_id=1, ts=BASE + t) for t in range(4)))
    assert eventually(lambda: all_in(db, "succeeded", 4))
    assert sink.max_in_flight >= 2  # the same call's events were in flight together
