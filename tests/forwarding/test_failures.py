"""A destination that fails: retries with backoff, Retry-After, 410, the circuit breaker, dead letters, restarts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from hookline.forwarding.destinations import DestinationStore
from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.forwarding.conftest import FAST, all_in, eventually, states
from tests.ingest.test_aircall_webhook import TOKEN, envelope
from tests.sink import Answer, Sink
from tests.support import Server, post_events


@pytest.fixture(autouse=True)
def token(db: Database) -> None:
    TokenStore(db).add(TOKEN, "acme")


def once_each(sink: Sink) -> Counter[str]:
    """2xx answers per webhook-id."""
    return Counter(r.headers["webhook-id"] for r in sink.succeeded())


def test_sink_failing_then_down_then_back_loses_nothing(
    db: Database, sink: Sink, start_server: Callable[..., Server]
) -> None:
    DestinationStore(db).add("crm", sink.url)
    server = start_server(env=FAST)
    sink.default = Answer(503)
    post_events(server, *(envelope(call_id=i) for i in range(20)))
    assert sink.wait_for(lambda s: len(s.snapshot()) >= 20)
    sink.stop()  # now the port refuses connections
    post_events(server, *(envelope(call_id=i) for i in range(20, 40)))
    assert eventually(lambda: any("cannot connect" in (r or "") for r in last_errors(db)), 5)
    sink.default = Answer(200)
    sink.start()
    assert eventually(lambda: all_in(db, "succeeded", 40), 20), states(db)
    delivered = once_each(sink)
    assert len(delivered) == 40 and set(delivered.values()) == {1}  # every event, each 2xx once
    ids = {r.json["data"]["id"] for r in sink.succeeded()}
    assert ids == set(range(40))
    assert sum(attempts for _, attempts, _ in states(db)) > 40  # failures were retried


def last_errors(db: Database) -> list[str | None]:
    with db.connection() as conn:
        return [r[0] for r in conn.fetchall("SELECT last_error FROM deliveries")]


def test_retry_after_is_honoured(db: Database, sink: Sink, start_server: Callable[..., Server]) -> None:
    DestinationStore(db).add("crm", sink.url)
    sink.script.append(Answer(503, {"retry-after": "2"}))
    server = start_server(env=FAST)
    post_events(server, envelope())
    assert sink.wait_for(lambda s: len(s.succeeded()) == 1)
    first, second = sink.snapshot()
    assert first.status == 503 and second.status == 200
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # stable across retries
    assert second.at - first.finished_at >= 1.9  # not the 0.05 s backoff


def test_410_gone_disables_the_destination(db: Database, sink: Sink, start_server: Callable[..., Server]) -> None:
    store = DestinationStore(db)
    store.add("crm", sink.url)
    sink.default = Answer(410)
    server = start_server(env=FAST)
    post_events(server, envelope(call_id=1))
    assert eventually(lambda: store.get("crm").disabled_reason is not None)
    assert eventually(lambda: states(db) == [("dead", 1, 410)])
    post_events(server, envelope(call_id=2))  # no delivery for a disabled destination
    with server.admin() as c:
        (dest,) = c.get("/api/destinations").json()["destinations"]
    assert dest["state"] == "disabled" and "410" in dest["disabled_reason"]
    assert len(states(db)) == 1 and len(sink.snapshot()) == 1
    sink.default = Answer(200)
    store.set_paused("crm", False)  # resume clears the disable
    post_events(server, envelope(call_id=3))
    assert sink.wait_for(lambda s: len(s.succeeded()) == 1)
    assert sink.succeeded()[0].json["data"]["id"] == 3


def test_circuit_breaker_stops_hammering_then_probes(
    db: Database, sink: Sink, start_server: Callable[..., Server]
) -> None:
    DestinationStore(db).add("crm", sink.url)
    sink.default = Answer(503)
    env = {
        **FAST,
        "HOOKLINE_DELIVERY_CONCURRENCY": "2",
        "HOOKLINE_DELIVERY_BREAKER_THRESHOLD": "3",
        "HOOKLINE_DELIVERY_BREAKER_COOLDOWN_SECONDS": "1",
    }
    server = start_server(env=env)
    post_events(server, *(envelope(call_id=i) for i in range(20)))
    with server.admin() as c:
        dest = eventually(lambda: _breaker(c))
    assert dest["consecutive_failures"] >= 3
    sink.wait_for(lambda s: False, 2.5)  # let time pass
    # Without the breaker: 20 deliveries retried every 0.05-0.2 s, hundreds of requests by now.
    # With it: 3 failures (+1 already in flight) open it, then one probe a second.
    assert len(sink.snapshot()) <= 8, len(sink.snapshot())
    sink.default = Answer(200)
    assert eventually(lambda: all_in(db, "succeeded", 20), 10), states(db)
    assert set(once_each(sink).values()) == {1} and len(once_each(sink)) == 20


def _breaker(c) -> dict | None:
    (dest,) = c.get("/api/destinations").json()["destinations"]
    return dest if dest["state"].startswith("breaker") else None


def test_dead_letter_after_max_attempts_then_manual_retry(
    db: Database, sink: Sink, start_server: Callable[..., Server]
) -> None:
    DestinationStore(db).add("crm", sink.url)
    sink.default = Answer(500)
    server = start_server(env={**FAST, "HOOKLINE_DELIVERY_MAX_ATTEMPTS": "3"})
    post_events(server, envelope())
    assert eventually(lambda: states(db) == [("dead", 3, 500)])
    sink.wait_for(lambda s: False, 0.5)
    assert len(sink.snapshot()) == 3  # and not one more
    with server.admin() as c:
        (failed,) = c.get("/api/deliveries", params={"state": "failed"}).json()["deliveries"]
        assert failed["state"] == "dead" and "gave up after 3 attempts" in failed["last_error"]
        sink.default = Answer(200)
        retried = c.post(f"/api/deliveries/{failed['id']}/retry")
        assert retried.status_code == 200 and retried.json()["state"] == "pending"
        assert eventually(lambda: states(db) == [("succeeded", 1, 200)])
        again = c.post(f"/api/deliveries/{failed['id']}/retry")
        assert again.status_code == 409 and again.json()["error"] == "conflict"
    assert len({r.headers["webhook-id"] for r in sink.snapshot()}) == 1


def test_dead_letter_after_max_age(db: Database, sink: Sink, start_server: Callable[..., Server]) -> None:
    DestinationStore(db).add("crm", sink.url)
    sink.default = Answer(500)
    server = start_server(env={**FAST, "HOOKLINE_DELIVERY_MAX_AGE_SECONDS": "0.5"})
    post_events(server, envelope())
    assert eventually(lambda: states(db)[0][0] == "dead")
    assert 1 < states(db)[0][1] < 20
    assert "gave up after" in (last_errors(db)[0] or "")


def test_retries_survive_a_restart(db: Database, sink: Sink, start_server: Callable[..., Server]) -> None:
    DestinationStore(db).add("crm", sink.url)
    sink.default = Answer(503)
    slow = {**FAST, "HOOKLINE_DELIVERY_BACKOFF_BASE_SECONDS": "1", "HOOKLINE_DELIVERY_BACKOFF_MAX_SECONDS": "1"}
    first = start_server(env=slow)
    post_events(first, *(envelope(call_id=i) for i in range(5)))
    assert eventually(lambda: all_in(db, "retrying", 5))
    first.stop()  # SIGTERM: graceful
    assert "dispatcher stopped" in first.log()
    assert all(s == "retrying" for s, _, _ in states(db))
    sink.default = Answer(200)
    start_server(env=slow)
    assert eventually(lambda: all_in(db, "succeeded", 5), 10), states(db)
    assert len(once_each(sink)) == 5 and set(once_each(sink).values()) == {1}
    with db.connection() as conn:
        assert conn.scalar("SELECT count(*) FROM deliveries WHERE lease_owner IS NOT NULL") == 0
