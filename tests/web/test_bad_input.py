"""What schemathesis found, pinned: ids past BIGINT and NUL characters got 500s (now 400s); 405s lacked Allow."""

from __future__ import annotations

from hookline.store.engine import Database
from tests.support import Server

HUGE = str(2**63)  # one past BIGINT and SQLite's integers: int() took it, the database did not
ID_ROUTES = [
    ("GET", "/api/events/{}"),
    ("GET", "/api/jobs/{}"),
    ("POST", "/api/jobs/{}/retry"),
    ("GET", "/api/calls/{}"),
    ("POST", "/api/deliveries/{}/retry"),
]


def test_ids_out_of_range_or_not_ascii_digits_are_400(db: Database, server: Server) -> None:
    with server.admin() as c:
        for method, template in ID_ROUTES:
            for raw in (HUGE, "9" * 40, "0", "-1", "²", "١٢", "+5", "abc"):
                r = c.request(method, template.format(raw))
                assert r.status_code == 400, (method, template, raw, r.status_code, r.text)
                assert r.json() == {"error": "invalid_id", "message": r.json()["message"]}
                assert "between 1 and 4611686018427387904" in r.json()["message"]
            assert c.request(method, template.format(2**62)).status_code == 404  # the largest id is looked up
    assert "unhandled error" not in server.log()


NUL_URLS = [
        "/api/events?account=%00",
        "/api/events?provider=a%00b",
        "/api/calls?status=%00",
        "/api/agents?account=x%00",
        "/api/messages?channel=%00",
        "/api/bookings?email=%00",
        "/api/bookings/abc%00",
        "/api/board_items?board_id=%00",
        "/api/deliveries?destination=%00",
    "/api/events?%00=1",
]


def test_nul_characters_are_400_on_both_engines(db: Database, server: Server) -> None:
    """PostgreSQL text cannot hold NUL (psycopg raised: a 500), SQLite can: both now refuse it alike."""
    with server.admin() as c:
        for url in NUL_URLS:
            r = c.get(url)
            assert r.status_code == 400 and r.json()["error"] == "invalid_query", (url, r.text)
            assert c.get(url.replace("%00", "%2500")).status_code in (200, 404)  # a literal "%00" is fine
    with server.client() as c:
        assert all(c.get(url).status_code == 401 for url in NUL_URLS)  # the token is checked first
    assert "unhandled error" not in server.log()


def test_405_names_the_allowed_methods(db: Database, server: Server) -> None:
    """RFC 9110: a 405 carries Allow (the JSON error handler used to drop Starlette's header)."""
    with server.admin() as c:
        for method, url, allowed in (
            ("DELETE", "/api/events", {"GET", "HEAD"}),
            ("PUT", "/api/calls/1", {"GET", "HEAD"}),
            ("GET", "/api/deliveries/1/retry", {"POST"}),
            ("PATCH", "/api/openapi.json", {"GET", "HEAD"}),
        ):
            r = c.request(method, url)
            assert r.status_code == 405 and r.json()["error"] == "method_not_allowed", (method, url, r.text)
            assert {m.strip() for m in r.headers["allow"].split(",")} == allowed, (method, url, r.headers)
