"""Security headers on every answer of a real server, on both engines: pages, JSON, webhooks and
every error (404, 405, 400, 401, 500); Strict-Transport-Security over TLS or behind a trusted proxy
that says X-Forwarded-Proto: https, and never over plain http."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from hookline.store.engine import Database
from tests.support import ADMIN_TOKEN, Server

HSTS = "max-age=31536000"
BASE = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "same-origin"}


def answers(server: Server, headers: dict[str, str]) -> dict[str, httpx.Response]:
    """One request per kind of answer; the key names the status it must have."""
    with server.client(headers=headers) as c:
        return {
            "200 health": c.get("/healthz"),
            "200 page": c.get("/login"),
            "200 api": c.get("/api/events", headers={"authorization": f"Bearer {ADMIN_TOKEN}"}),
            "303 redirect": c.get("/operations"),
            "404 route": c.get("/no/such/page"),
            "404 static": c.get("/static/nope.css"),
            "405 route": c.post("/healthz"),
            "405 webhook": c.get("/aircall/webhook"),
            "400 webhook": c.post("/aircall/webhook", content=b"not json"),
            "401 api": c.get("/api/events"),
        }


def check(found: dict[str, httpx.Response], hsts: bool) -> None:
    for name, r in found.items():
        assert r.status_code == int(name.split()[0]), (name, r.status_code, r.text)
        for header, value in BASE.items():
            assert r.headers.get(header) == value, (name, header, r.headers)
        assert r.headers.get("content-security-policy"), name
        assert r.headers.get("strict-transport-security") == (HSTS if hsts else None), (name, r.headers)
    # A page keeps its own policy; JSON gets the one that allows nothing.
    assert found["200 page"].headers["content-security-policy"].startswith("default-src 'self'")
    assert found["404 route"].headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_every_answer_has_the_security_headers_and_hsts_only_over_https(server: Server) -> None:
    check(answers(server, {}), hsts=False)
    check(answers(server, {"x-forwarded-proto": "https"}), hsts=True)  # 127.0.0.1 is a trusted proxy


def test_an_untrusted_peer_cannot_ask_for_hsts(start_server: Callable[..., Server]) -> None:
    server = start_server(env={"HOOKLINE_FORWARDED_ALLOW_IPS": "192.0.2.1"})
    check(answers(server, {"x-forwarded-proto": "https"}), hsts=False)


def test_served_with_tls_every_answer_has_hsts(start_server: Callable[..., Server], tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    server = start_server(args=("--certfile", str(cert), "--keyfile", str(key)), ca=cert)
    check(answers(server, {}), hsts=True)


def test_a_500_has_them_too(db: Database, server: Server) -> None:
    """A real internal error (the events table gone under the server): JSON 500 with every header."""
    with db.connection() as conn:
        conn.execute("ALTER TABLE events RENAME TO events_away")
    try:
        with server.admin() as admin:
            r = admin.get("/api/events", headers={"x-forwarded-proto": "https"})
    finally:
        with db.connection() as conn:
            conn.execute("ALTER TABLE events_away RENAME TO events")
    assert r.status_code == 500 and r.json() == {"error": "internal", "message": "internal error"}
    for header, value in BASE.items():
        assert r.headers[header] == value
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert r.headers["strict-transport-security"] == HSTS
