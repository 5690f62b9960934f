"""POST /aircall/webhook against a real server, on both engines: every answer the contract names."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.support import Server, stored_events

TOKEN = "aircall-webhook-token-0001"
OTHER_TOKEN = "aircall-webhook-token-0002"


def envelope(event: str = "call.created", call_id: int = 101, ts: int = 1_763_900_000, token: str = TOKEN) -> dict:
    return {
        "resource": event.split(".")[0],
        "event": event,
        "timestamp": ts,
        "token": token,
        "data": {"id": call_id, "direction": "inbound", "status": "initial"},
    }


# The events columns these tests compare.
STORED = "id, account, event, duplicate_count, known, resource_id, body"


def register(db: Database) -> None:
    store = TokenStore(db)
    store.add(TOKEN, "acme")
    store.add(OTHER_TOKEN, "globex")


def test_valid_event_is_committed_then_answered_with_its_id(db: Database, server: Server) -> None:
    register(db)
    body = json.dumps(envelope()).encode()
    with server.client() as c:
        r = c.post("/aircall/webhook", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200
    answer = r.json()
    assert answer["duplicate"] is False
    rows = stored_events(db, STORED)
    assert len(rows) == 1
    event_id, account, event, dupes, known, resource_id, raw = rows[0]
    assert (event_id, account, event, dupes, bool(known), resource_id) == (
        answer["id"],
        "acme",
        "call.created",
        0,
        True,
        "101",
    )
    assert bytes(raw) == body  # byte-for-byte


def test_same_event_again_is_stored_once_and_counted(db: Database, server: Server) -> None:
    register(db)
    with server.client() as c:
        first = c.post("/aircall/webhook", json=envelope())
        second = c.post("/aircall/webhook", json=envelope())
        third = c.post("/aircall/webhook", json=envelope())
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    assert first.json()["id"] == second.json()["id"] == third.json()["id"]
    assert [first.json()["duplicate"], second.json()["duplicate"]] == [False, True]
    rows = stored_events(db, STORED)
    assert len(rows) == 1 and rows[0][3] == 2


def test_distinct_events_are_not_merged(db: Database, server: Server) -> None:
    """Same call, same second, different payload (two tags at once): two events, not a duplicate."""
    register(db)
    a, b = envelope("call.tagged"), envelope("call.tagged")
    a["data"]["tags"] = [{"id": 1, "name": "vip"}]
    b["data"]["tags"] = [{"id": 2, "name": "churn"}]
    other_account = envelope(token=OTHER_TOKEN)
    with server.client() as c:
        ids = {c.post("/aircall/webhook", json=x).json()["id"] for x in (a, b, envelope(), other_account)}
    assert len(ids) == 4
    assert {row[1] for row in stored_events(db, STORED)} == {"acme", "globex"}


def test_unknown_event_type_is_stored_and_acknowledged(db: Database, server: Server) -> None:
    register(db)
    with server.client() as c:
        r = c.post("/aircall/webhook", json=envelope("call.teleported"))
    assert r.status_code == 200
    (row,) = stored_events(db, STORED)
    assert row[2] == "call.teleported" and not row[4]


def test_event_without_data_id_is_deduplicated_by_body(db: Database, server: Server) -> None:
    register(db)
    body = {
        "event": "integration.deleted",
        "resource": "integration",
        "timestamp": 1,
        "token": TOKEN,
        "data": {},
    }
    with server.client() as c:
        ids = [c.post("/aircall/webhook", json=body).json()["id"] for _ in range(2)]
    assert ids[0] == ids[1]
    assert len(stored_events(db, STORED)) == 1


def test_bad_requests_get_clear_answers_and_nothing_is_stored(db: Database, server: Server) -> None:
    register(db)
    cases = [
        (json.dumps(envelope(token="not-a-token")), 401, "unknown_token"),
        (json.dumps({k: v for k, v in envelope().items() if k != "token"}), 401, "missing_token"),
        (json.dumps({"event": "call.created", "token": ""}), 401, "missing_token"),
        ("this is not json", 400, "invalid_json"),
        ("", 400, "invalid_json"),
        ("[1, 2, 3]", 400, "invalid_envelope"),
        ('"a string"', 400, "invalid_envelope"),
        (json.dumps({**envelope(), "event": 42}), 400, "invalid_envelope"),
        (json.dumps({k: v for k, v in envelope().items() if k != "event"}), 400, "missing_event"),
        ('{"event": "call.created", "token": "' + TOKEN + '", "data": ', 400, "invalid_json"),
    ]
    with server.client() as c:
        for body, status, reason in cases:
            r = c.post("/aircall/webhook", content=body.encode())
            assert r.status_code == status, (body, r.text)
            assert r.json()["error"] == reason
    assert stored_events(db, STORED) == []


def test_oversized_body_is_413_with_or_without_content_length(db: Database, start_server) -> None:
    register(db)
    server = start_server(env={"HOOKLINE_BODY_LIMIT": "2048"})
    big = json.dumps({**envelope(), "padding": "x" * 4096}).encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        for i in range(0, len(big), 512):
            yield big[i : i + 512]

    with server.client() as c:
        assert c.post("/aircall/webhook", content=big).status_code == 413
        r = c.post("/aircall/webhook", content=chunks())
        assert r.status_code == 413 and r.json()["error"] == "too_large"
        assert c.post("/aircall/webhook", json=envelope()).status_code == 200
    assert len(stored_events(db, STORED)) == 1


def test_other_methods_are_405(db: Database, server: Server) -> None:
    with server.client() as c:
        for method in ("GET", "PUT", "DELETE", "PATCH"):
            r = c.request(method, "/aircall/webhook")
            assert r.status_code == 405 and r.headers["allow"] == "POST"


def _status_within(c: httpx.Client, body: dict, wanted: int, seconds: float = 5.0) -> int:
    deadline = time.monotonic() + seconds
    while True:
        status = c.post("/aircall/webhook", json=body).status_code
        if status == wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def test_token_added_while_serving_is_accepted_and_removed_one_refused(db: Database, server: Server) -> None:
    store = TokenStore(db)
    with server.client() as c:
        assert c.post("/aircall/webhook", json=envelope()).status_code == 401
        store.add(TOKEN, "acme")
        started = time.monotonic()
        assert _status_within(c, envelope(), 200) == 200
        assert time.monotonic() - started < 1.0  # a miss looks again after 0.25 s
        store.remove(TOKEN)
        # Removal is seen within token_cache_seconds (2 s by default).
        assert _status_within(c, envelope(call_id=999), 401) == 401


def test_tokens_never_reach_the_logs(db: Database, server: Server) -> None:
    register(db)
    with server.client() as c:
        c.post("/aircall/webhook", json=envelope())
        c.post("/aircall/webhook", json=envelope(token="a-wrong-token-that-is-secret"))
        c.post("/aircall/webhook", content=b"not json " + TOKEN.encode())
    server.stop()
    log = server.log()
    assert TOKEN not in log and "a-wrong-token-that-is-secret" not in log


def test_many_clients_and_the_same_event_posted_concurrently(db: Database, server: Server) -> None:
    register(db)

    def post(i: int) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            same = c.post("/aircall/webhook", json=envelope(call_id=7, ts=1_763_900_007))
            assert same.status_code == 200
            return c.post("/aircall/webhook", json=envelope(call_id=1000 + i))

    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(post, range(200)))
    assert all(r.status_code == 200 for r in answers)
    assert len({r.json()["id"] for r in answers}) == 200
    rows = stored_events(db, STORED)
    assert len(rows) == 201
    (same,) = [r for r in rows if r[5] == "7"]
    assert same[3] == 199  # 200 deliveries, stored once


def test_metrics_count_what_happened(db: Database, server: Server) -> None:
    register(db)
    with server.client() as c:
        c.post("/aircall/webhook", json=envelope())
        c.post("/aircall/webhook", json=envelope())
        c.post("/aircall/webhook", json=envelope("call.teleported"))
        c.post("/aircall/webhook", json=envelope(token="nope-nope"))
        c.post("/aircall/webhook", content=b"{")
        text = c.get("/metrics").text
    m = samples(text)
    assert m[("hookline_events_received_total", (("event", "call.created"), ("provider", "aircall")))] == 2
    assert m[("hookline_events_received_total", (("event", "unknown"), ("provider", "aircall")))] == 1
    assert m[("hookline_events_duplicate_total", (("provider", "aircall"),))] == 1
    assert m[("hookline_events_rejected_total", (("provider", "aircall"), ("reason", "unknown_token")))] == 1
    assert m[("hookline_events_rejected_total", (("provider", "aircall"), ("reason", "invalid_json")))] == 1
    assert m[("hookline_commit_batch_size_count", ())] >= 3
    assert m[("hookline_ack_latency_seconds_count", (("provider", "aircall"),))] == 3


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_unwritable_log_answers_503_and_recovers(db: Database, server: Server) -> None:
    """Never a 2xx for what was not stored: with the table gone the answer is 503, then it heals."""
    register(db)
    with server.client() as c:
        assert c.post("/aircall/webhook", json=envelope(call_id=1)).status_code == 200
        with db.connection() as conn:
            conn.execute("ALTER TABLE events RENAME TO events_away")
        r = c.post("/aircall/webhook", json=envelope(call_id=2))
        assert r.status_code == 503 and r.headers["retry-after"] == "5" and r.json()["error"] == "unavailable"
        with db.connection() as conn:
            conn.execute("ALTER TABLE events_away RENAME TO events")
        assert c.post("/aircall/webhook", json=envelope(call_id=3)).status_code == 200
    assert [row[5] for row in stored_events(db, STORED)] == ["1", "3"]


def test_a_realistic_sample_of_every_catalog_type_is_stored_as_known(db: Database, server: Server) -> None:
    from hookline.providers.aircall.catalog import CATALOG
    from hookline.testing.aircall.samples import sample_event

    register(db)
    with server.client() as c:
        for name in CATALOG:
            r = c.post("/aircall/webhook", json=sample_event(name, token=TOKEN))
            assert r.status_code == 200, (name, r.text)
    with db.connection() as conn:
        rows = conn.fetchall("SELECT event, known FROM events")
    assert sorted(e for e, _ in rows) == sorted(CATALOG) and all(bool(k) for _, k in rows)
    assert len(CATALOG) == 69


def test_serve_https_with_certfile_and_keyfile(db: Database, start_server, tmp_path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    register(db)
    server = start_server(args=("--certfile", str(cert), "--keyfile", str(key)), ca=cert)
    assert server.url.startswith("https://")
    with server.client() as c:
        assert c.post("/aircall/webhook", json=envelope()).status_code == 200
    with pytest.raises(httpx.HTTPError):
        httpx.post(f"http://127.0.0.1:{server.port}/aircall/webhook", json=envelope(), timeout=3)
    assert len(stored_events(db, STORED)) == 1
