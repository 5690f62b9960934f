"""Slow clients against a real server, on both engines: a request whose head or body has not arrived
within HOOKLINE_BODY_TIMEOUT_SECONDS gets 408 and its connection closes; others are answered meanwhile."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable

import pytest

from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.dashboard.helpers import TOKEN, CallCenter, EventStream, post, signed_in
from tests.support import Server

# Several processes or long waits: not in `./scripts/test --fast`.
pytestmark = pytest.mark.slow

TIMEOUT = 1.0
SLACK = 3.0  # scheduling on a busy 2-core machine


@pytest.fixture
def slow(db: Database, start_server: Callable[..., Server]) -> Server:
    TokenStore(db).add(TOKEN, "acme")
    return start_server(env={"HOOKLINE_BODY_TIMEOUT_SECONDS": str(TIMEOUT)})


def connect(server: Server, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT + SLACK + 5)
    sock.sendall(data)
    return sock


def until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a timeout fails the test)."""
    received = b""
    with sock:
        while chunk := sock.recv(65536):
            received += chunk
    return received


def answer(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def request_head(path: str, *headers: str) -> bytes:
    return "\r\n".join([f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]).encode()


def unfinished(path: str, kind: str) -> bytes:
    """A request whose body never completes: fewer bytes than Content-Length, or a chunked body
    without its last chunk."""
    form = "application/x-www-form-urlencoded" if path == "/login" else "application/json"
    if kind == "short_content_length":
        return request_head(path, f"Content-Type: {form}", "Content-Length: 500") + b'{"event": "call.cre'
    return request_head(path, f"Content-Type: {form}", "Transfer-Encoding: chunked") + b"5\r\ntoken\r\n"


@pytest.mark.parametrize("path", ["/aircall/webhook", "/login"])
def test_an_unfinished_body_gets_408_while_others_are_answered(slow: Server, path: str) -> None:
    started = time.monotonic()
    socks = [connect(slow, unfinished(path, kind)) for kind in ("short_content_length", "partial_chunked")]
    # Meanwhile a valid event on another connection is stored and answered at once.
    post(slow, CallCenter().call_event("call.created", 4242))
    assert time.monotonic() - started < TIMEOUT
    for sock in socks:
        status, headers, body = answer(until_closed(sock))
        elapsed = time.monotonic() - started
        assert status == 408, body
        assert json.loads(body)["error"] == "body_timeout"
        assert headers["content-type"] == "application/json" and headers["connection"] == "close"
        assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + SLACK
    with slow.admin() as admin:
        assert [e["event"] for e in admin.get("/api/events").json()["events"]] == ["call.created"]
        assert 'hookline_http_request_timeouts_total{part="body"} 2.0' in admin.get("/metrics").text
    assert "Traceback" not in slow.log() and "unhandled error" not in slow.log()


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # connected, never a byte
        b"POST /aircall/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le",  # headers never finished
    ],
    ids=["silent", "unfinished_headers"],
)
def test_unfinished_headers_get_408_and_the_connection_closes(slow: Server, sent: bytes) -> None:
    started = time.monotonic()
    sock = connect(slow, sent)
    status, _, body = answer(until_closed(sock))
    assert status == 408 and json.loads(body)["error"] == "header_timeout"
    assert TIMEOUT * 0.9 <= time.monotonic() - started < TIMEOUT + SLACK
    with slow.admin() as admin:  # /metrics counts them (the admin client's own requests are on time)
        assert 'hookline_http_request_timeouts_total{part="header"} 1.0' in admin.get("/metrics").text


def test_headers_trickled_a_byte_at_a_time_do_not_hold_the_connection(slow: Server) -> None:
    sock = connect(slow, b"GET /healthz HTTP/1.1\r\n")
    started = time.monotonic()
    closed = False
    while time.monotonic() - started < TIMEOUT + SLACK:
        try:
            sock.sendall(b"X")
            time.sleep(0.2)
        except OSError:  # the server closed it
            closed = True
            break
    sock.close()
    assert closed, "a client trickling its headers kept the connection past the deadline"


def test_a_keep_alive_connection_gets_a_fresh_deadline_per_request(slow: Server) -> None:
    """The deadline covers one request's head and body, not the life of a connection."""
    with slow.client() as c:
        for _ in range(3):
            assert c.get("/healthz").status_code == 200
            time.sleep(TIMEOUT * 0.6)  # under the keep-alive timeout, over the deadline in total


def test_a_live_stream_outlives_the_body_deadline(slow: Server) -> None:
    """A GET has no body: its stream, which waits in receive() for a disconnect, is not cut at the deadline."""
    with signed_in(slow) as client:
        stream = EventStream(slow, client.cookies)
        try:
            time.sleep(TIMEOUT + 1.0)
            assert not stream.ended.is_set()
            post(slow, CallCenter().call_event("call.created", 77))
            message, _ = stream.next_change(10)
            assert "aircall" in message["providers"]
        finally:
            stream.close()
