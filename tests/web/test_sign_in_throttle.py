"""Sign-in throttling against a real server, on both engines: wrong admin tokens counted per client
address (/login and Bearer on /api together), 429 with Retry-After after ten a minute, each failure
logged without the token and counted in /metrics; a weak HOOKLINE_ADMIN_TOKEN is warned about."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from tests.support import ADMIN_TOKEN, Server

GUESS = "guessed-token-that-must-not-be-logged"
ATTACKER = {"x-forwarded-for": "203.0.113.7"}  # the test talks from 127.0.0.1, a trusted proxy by default
NEIGHBOUR = {"x-forwarded-for": "198.51.100.9"}


def bearer(token: str, via: dict[str, str]) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", **via}


def login(c: httpx.Client, token: str, via: dict[str, str]) -> httpx.Response:
    return c.post("/login", data={"token": token, "next": "/operations"}, headers=via)


def failure_lines(server: Server) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "authentication failed"]


def test_wrong_bearer_tokens_get_429_after_ten_a_minute(server: Server) -> None:
    with server.client() as c:
        for _ in range(10):
            r = c.get("/api/events", headers=bearer(GUESS, ATTACKER))
            assert r.status_code == 401, r.text
        r = c.get("/api/events", headers=bearer(GUESS, ATTACKER))
        assert r.status_code == 429
        assert r.json()["error"] == "too_many_attempts" and r.headers["content-type"] == "application/json"
        assert 1 <= int(r.headers["retry-after"]) <= 60
        # Refused without a look at the token: the right one gets the same answer, so guessing stops.
        assert c.get("/api/events", headers=bearer(ADMIN_TOKEN, ATTACKER)).status_code == 429
        # Another address is not affected, with or without its token.
        assert c.get("/api/events", headers=bearer(ADMIN_TOKEN, NEIGHBOUR)).status_code == 200
        assert c.get("/api/events", headers=bearer(GUESS, NEIGHBOUR)).status_code == 401
        # A request without a token is no guess: it does not count.
        for _ in range(12):
            assert c.get("/api/events", headers=NEIGHBOUR).status_code == 401
        assert c.get("/api/events", headers=bearer(ADMIN_TOKEN, NEIGHBOUR)).status_code == 200
    with server.admin() as admin:
        metrics = admin.get("/metrics").text
    assert 'hookline_auth_failures_total{surface="api"} 11.0' in metrics
    assert 'hookline_auth_throttled_total{surface="api"} 2.0' in metrics
    failures = failure_lines(server)
    assert len(failures) == 11
    assert {(f["address"], f["path"], f["level"]) for f in failures} == {
        ("203.0.113.7", "/api/events", "warning"),
        ("198.51.100.9", "/api/events", "warning"),
    }
    assert GUESS not in server.log() and ADMIN_TOKEN not in server.log()


def test_the_sign_in_page_is_throttled_with_the_api_on_one_count(server: Server) -> None:
    with server.client() as c:
        for _ in range(5):
            assert c.get("/api/stats", headers=bearer(GUESS, ATTACKER)).status_code == 401
        for _ in range(5):
            r = login(c, GUESS, ATTACKER)
            assert r.status_code == 401 and "That token is not the admin token." in r.text
        r = login(c, ADMIN_TOKEN, ATTACKER)
        assert r.status_code == 429 and r.headers["content-type"].startswith("text/html")
        assert "Too many wrong tokens from your address: try again in" in r.text
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert r.headers["content-security-policy"].startswith("default-src 'self'")  # the page's own policy
        assert "hookline_session" not in r.headers.get("set-cookie", "")
        assert c.get("/api/stats", headers=bearer(ADMIN_TOKEN, ATTACKER)).status_code == 429
        # The neighbour signs in.
        r = login(c, ADMIN_TOKEN, NEIGHBOUR)
        assert r.status_code == 303 and r.headers["location"] == "/operations"
    with server.admin() as admin:
        metrics = admin.get("/metrics").text
    assert 'hookline_auth_failures_total{surface="login"} 5.0' in metrics
    assert 'hookline_auth_throttled_total{surface="login"} 1.0' in metrics
    assert {f["path"] for f in failure_lines(server)} == {"/api/stats", "/login"}
    assert GUESS not in server.log()


def test_an_untrusted_peer_cannot_choose_its_address(start_server: Callable[..., Server]) -> None:
    """X-Forwarded-For counts only from HOOKLINE_FORWARDED_ALLOW_IPS: otherwise a guesser would name a
    new address per request."""
    server = start_server(env={"HOOKLINE_FORWARDED_ALLOW_IPS": "192.0.2.1"})
    with server.client() as c:
        for i in range(10):
            assert c.get("/api/events", headers=bearer(GUESS, {"x-forwarded-for": f"203.0.113.{i}"})).status_code == 401
        assert c.get("/api/events", headers=bearer(GUESS, {"x-forwarded-for": "203.0.113.99"})).status_code == 429
    assert {f["address"] for f in failure_lines(server)} == {"127.0.0.1"}


def test_the_limit_is_a_setting(start_server: Callable[..., Server]) -> None:
    server = start_server(env={"HOOKLINE_AUTH_FAILURES_PER_MINUTE": "3"})
    with server.client() as c:
        assert [c.get("/api/events", headers=bearer(GUESS, {})).status_code for _ in range(4)] == [401, 401, 401, 429]


def test_serve_warns_about_a_weak_admin_token(start_server: Callable[..., Server]) -> None:
    weak = "short-admin-token"  # 17 characters
    server = start_server(env={"HOOKLINE_ADMIN_TOKEN": weak})
    warnings = [line for line in server.log().splitlines() if "HOOKLINE_ADMIN_TOKEN is weak" in line]
    assert len(warnings) == 1 and json.loads(warnings[0])["level"] == "warning"
    assert weak not in server.log()
    server.stop()  # one serve per SQLite file
    strong = start_server()  # the tests' token has 27 characters
    assert "HOOKLINE_ADMIN_TOKEN is weak" not in strong.log()


def test_the_window_slides_and_the_wait_is_exact() -> None:
    """The minute slides: an address may try again when its oldest failure is a minute old."""
    from hookline.metrics import Metrics
    from hookline.web.throttle import SignInThrottle

    throttle = SignInThrottle(10, Metrics())
    for t in range(10):
        assert throttle.retry_after("203.0.113.7", now=100.0 + t) is None
        throttle.failed("203.0.113.7", "/login", "login", now=100.0 + t)
    assert throttle.retry_after("203.0.113.7", now=110.0) == 50  # the first failure (t=100) leaves at 160
    assert throttle.retry_after("203.0.113.7", now=159.5) == 1
    assert throttle.retry_after("203.0.113.7", now=160.0) is None  # one slot free again...
    throttle.failed("203.0.113.7", "/login", "login", now=160.0)
    assert throttle.retry_after("203.0.113.7", now=160.5) == 1  # ...and taken: the next leaves at 161
    assert throttle.retry_after("198.51.100.9", now=160.5) is None
    assert throttle.retry_after("203.0.113.7", now=230.0) is None  # all old: forgotten
