"""Dashboard sessions stored server-side, on real servers and both engines: sign-out revokes a copied
cookie, "sign out everywhere" (button and CLI), expiry and idle timeout, forged ids, and on
PostgreSQL a sign-out on one `serve` process reaching another within the cache time; a foreign
cookie next to ours; a live stream ending with its session."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable

import httpx

from hookline.store.engine import Database
from tests.dashboard.helpers import EventStream, csrf_of, eventually, signed_in
from tests.support import ADMIN_TOKEN, Server, on_engine, run_cli

NO_CACHE = {"HOOKLINE_DASHBOARD_SESSION_CACHE_SECONDS": "0"}


def rows(db: Database) -> list[tuple[str, float, float, float, str | None]]:
    with db.connection() as conn:
        found = conn.fetchall(
            "SELECT id_sha256, created_at, last_seen_at, expires_at, user_agent FROM dashboard_sessions"
        )
    return [tuple(r) for r in found]  # type: ignore[misc]


def digest_of(cookie: str) -> str:
    return hashlib.sha256(cookie.split(".")[0].encode()).hexdigest()


def refused(server: Server, cookie: str) -> bool:
    """The cookie signs nobody in: pages send the browser to /login, fragments and /api answer 401."""
    with server.client(cookies={"hookline_session": cookie}) as c:
        page = c.get("/operations")
        if page.status_code != 303:
            return False
        assert page.headers["location"] == "/login?next=/operations"
        api = c.get("/api/stats")
        assert api.status_code == 401 and api.json()["error"] == "unauthorized", api.text
        assert c.get("/aircall/live/board").status_code == 401
        return True


def accepted(server: Server, cookie: str) -> bool:
    with server.client(cookies={"hookline_session": cookie}) as c:
        return c.get("/operations").status_code == 200 and c.get("/api/stats").status_code == 200


def sign_in(server: Server, user_agent: str = "test-browser") -> str:
    with server.client(headers={"user-agent": user_agent}) as c:
        r = c.post("/login", data={"token": ADMIN_TOKEN})
        assert r.status_code == 303, r.text
        return str(c.cookies["hookline_session"])


def test_sign_out_revokes_a_copied_cookie(dash: Server, db: Database) -> None:
    with signed_in(dash) as c:
        copied = c.cookies["hookline_session"]
        assert accepted(dash, copied)  # the copy works while the session lives
        [(stored, created, last_seen, expires, agent)] = rows(db)
        sid = copied.split(".")[0]
        assert stored == digest_of(copied) and sid not in stored  # only the id's digest is stored
        assert agent is not None and agent.startswith("python-httpx")
        assert created <= last_seen < expires and abs(expires - created - 12 * 3600) < 1
        assert int(copied.split(".")[1]) == int(expires)

        out = c.post("/logout", data={"csrf": csrf_of(c.get("/operations").text)})
        assert out.status_code == 303 and out.headers["location"] == "/login"
    assert rows(db) == []
    assert refused(dash, copied)  # at once on the process that signed out: its cache is updated
    assert ADMIN_TOKEN not in dash.log() and sid not in dash.log()


def test_sign_out_everywhere_from_the_operations_page(dash: Server, db: Database) -> None:
    other = sign_in(dash, "second-browser")
    with signed_in(dash) as c:
        page = c.get("/operations")
        assert page.status_code == 200 and 'action="/logout/everywhere"' in page.text
        assert '<span class="num" id="sessions-active">2</span>' in page.text
        token = csrf_of(page.text)

        # CSRF as for every form: no token, another session's token or another origin is refused.
        assert c.post("/logout/everywhere", data={"other": "1"}).status_code == 403
        with dash.client(cookies={"hookline_session": other}) as o:
            other_csrf = csrf_of(o.get("/operations").text)
        assert other_csrf != token  # derived from each session
        assert c.post("/logout/everywhere", data={"csrf": other_csrf}).status_code == 403
        elsewhere = {"origin": "http://elsewhere.example"}
        assert c.post("/logout/everywhere", data={"csrf": token}, headers=elsewhere).status_code == 403
        assert len(rows(db)) == 2 and accepted(dash, other)

        out = c.post("/logout/everywhere", data={"csrf": token})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert "max-age=0" in out.headers["set-cookie"].lower()
        mine = c.cookies.get("hookline_session")
    assert rows(db) == []
    assert refused(dash, other)
    assert mine is None or refused(dash, mine)
    assert accepted(dash, sign_in(dash))  # signing in again works


def test_cli_lists_sessions_and_revokes_them_all(
    db: Database, database_url: str, start_server: Callable[..., Server]
) -> None:
    server = start_server()
    first, second = sign_in(server, "Firefox on the desk"), sign_in(server, "Chromium [bold]on[/bold] a laptop")
    assert accepted(server, first) and accepted(server, second)

    listed = run_cli("dashboard", "sessions", "list", "--json", database_url=database_url)
    assert listed.returncode == 0, listed.stderr
    sessions = json.loads(listed.stdout)
    assert {s["user_agent"] for s in sessions} == {"Firefox on the desk", "Chromium [bold]on[/bold] a laptop"}
    assert {s["id"] for s in sessions} == {digest_of(first)[:12], digest_of(second)[:12]}
    assert all(s["created_at"] <= s["last_seen_at"] < s["expires_at"] for s in sessions)
    table = run_cli("dashboard", "sessions", "list", database_url=database_url, env={"COLUMNS": "200"})
    assert table.returncode == 0 and "Firefox on the desk" in table.stdout
    assert "Chromium [bold]on[/bold] a laptop" in table.stdout  # a browser's text, not rich markup
    for cookie in (first, second):  # no listing shows what signs a browser in
        assert cookie.split(".")[0] not in listed.stdout + table.stdout

    revoked = run_cli("dashboard", "sessions", "revoke-all", database_url=database_url)
    assert revoked.returncode == 0 and "signed out 2 dashboard sessions" in revoked.stdout
    assert rows(db) == []
    # The running server had both sessions cached: it refuses them once its cache time (1 s) is up.
    assert eventually(lambda: refused(server, first) and refused(server, second), timeout=5)
    empty = run_cli("dashboard", "sessions", "list", database_url=database_url)
    assert empty.returncode == 0 and "no dashboard sessions" in empty.stdout
    again = run_cli("dashboard", "sessions", "revoke-all", database_url=database_url)
    assert again.returncode == 0 and "signed out 0 dashboard sessions" in again.stdout


def test_admin_token_reset_still_signs_everyone_out(
    db: Database, database_url: str, start_server: Callable[..., Server]
) -> None:
    env = {"HOOKLINE_ADMIN_TOKEN": ""}
    token = run_cli("admin-token", database_url=database_url, env=env).stdout.strip()
    assert token.startswith("hl_")
    server = start_server(env=env)
    with server.client() as c:
        assert c.post("/login", data={"token": token}).status_code == 303
        cookie = c.cookies["hookline_session"]
    assert accepted(server, cookie) and len(rows(db)) == 1
    reset = run_cli("admin-token", "--reset", database_url=database_url, env=env)
    assert reset.returncode == 0
    assert rows(db) == []
    assert refused(server, cookie)  # the token's digest is in the HMAC: refused at once, cache or not


def test_expired_sessions_are_refused_and_purged(
    db: Database, start_server: Callable[..., Server]
) -> None:
    server = start_server(env=NO_CACHE)
    old, current = sign_in(server, "old"), sign_in(server, "current")
    assert accepted(server, old) and accepted(server, current)
    # The row's expiry is what counts: the cookie still says 12 h.
    with db.connection() as conn, conn.transaction():
        conn.execute("UPDATE dashboard_sessions SET expires_at = ? WHERE id_sha256 = ?",
                     (time.time() - 1, digest_of(old)))
    assert refused(server, old)
    assert accepted(server, current)
    listed = [r[4] for r in rows(db)]
    assert sorted(str(a) for a in listed) == ["current", "old"]  # refused, but still stored...
    newest = sign_in(server, "newest")
    assert sorted(str(r[4]) for r in rows(db)) == ["current", "newest"]  # ...until the next sign-in purges it
    assert digest_of(old) not in {r[0] for r in rows(db)}
    assert accepted(server, newest) and refused(server, old)


def test_an_idle_session_is_signed_out(db: Database, start_server: Callable[..., Server]) -> None:
    server = start_server(env={**NO_CACHE, "HOOKLINE_DASHBOARD_SESSION_IDLE_SECONDS": "3"})
    used, idle = sign_in(server, "used"), sign_in(server, "idle")
    started = time.monotonic()
    while time.monotonic() - started < 4.5:  # longer than the idle timeout: use keeps it alive
        assert accepted(server, used)
        time.sleep(0.4)
    assert refused(server, idle)
    assert accepted(server, used)
    touched = {r[4]: r[2] for r in rows(db)}
    assert touched["used"] - touched["idle"] > 3  # last_seen_at moved with use
    sign_in(server, "later")
    assert sorted(str(r[4]) for r in rows(db)) == ["later", "used"]  # the idle one purged


def test_a_forged_session_id_is_refused(dash: Server, db: Database) -> None:
    real = sign_in(dash)  # the first sign-in makes the signing key
    with db.connection() as conn:
        key = bytes.fromhex(str(conn.scalar("SELECT value FROM settings WHERE key = 'dashboard_session_key'")))
    fingerprint = hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()

    def signed(sid: str, expires: str) -> str:
        return hmac.new(key, "\x00".join(["session", sid, expires, fingerprint]).encode(), hashlib.sha256).hexdigest()

    sid, expires, mac = real.split(".")
    assert signed(sid, expires) == mac  # the recipe is right: what follows is refused for its id alone
    forged_id = secrets.token_urlsafe(32)
    forged = f"{forged_id}.{expires}.{signed(forged_id, expires)}"
    assert refused(dash, forged)
    for bad in (f"{forged_id}.{expires}.{mac}", f"{sid}.{expires}.{'0' * 64}", f"{sid}..{mac}", "x.y", ""):
        assert refused(dash, bad)
    assert accepted(dash, real) and len(rows(db)) == 1


@on_engine("postgresql")
def test_sign_out_on_one_server_is_refused_by_another(
    db: Database, start_server: Callable[..., Server]
) -> None:
    a, b = start_server(), start_server()  # the default cache time: 1 s
    with a.client() as c:
        assert c.post("/login", data={"token": ADMIN_TOKEN}).status_code == 303
        cookie = c.cookies["hookline_session"]
        assert accepted(b, cookie)  # one database: B accepts A's session (and has it cached now)
        out = c.post("/logout", data={"csrf": csrf_of(c.get("/operations").text)})
        assert out.status_code == 303
    signed_out = time.monotonic()
    assert refused(a, cookie)
    assert eventually(lambda: refused(b, cookie), timeout=5, step=0.1)
    lag = time.monotonic() - signed_out
    assert lag < 1.0 + 1.5, f"B took {lag:.2f} s to notice the sign-out"
    assert refused(b, cookie)  # and stays refused

    # Sign out everywhere on B reaches sessions A has cached.
    first, second = sign_in(a), sign_in(b)
    assert accepted(a, first) and accepted(a, second) and accepted(b, first)
    with httpx.Client(base_url=b.url, cookies={"hookline_session": second}) as on_b:
        token = csrf_of(on_b.get("/operations").text)
        assert on_b.post("/logout/everywhere", data={"csrf": token}).status_code == 303
    assert refused(b, first) and refused(b, second)
    assert eventually(lambda: refused(a, first) and refused(a, second), timeout=5, step=0.1)
    assert rows(db) == []


def test_a_cookie_the_dashboard_does_not_own_does_not_sign_it_out(dash: Server) -> None:
    """Another app on the same host may set a cookie SimpleCookie cannot parse (`other={"a":1}`): the
    session cookie next to it still counts, wherever it stands in the header."""
    cookie = sign_in(dash)
    for header in (
        f'other={{"a":1}}; hookline_session={cookie}; theme=dark',
        f'hookline_session={cookie}; other={{"a":1}}',
        f'a b=c; ="x"; hookline_session={cookie}; broken',
    ):
        with dash.client(headers={"cookie": header}) as c:
            page = c.get("/operations")
            assert page.status_code == 200, (header, page.status_code)
            assert c.get("/api/stats").status_code == 200
    with dash.client(headers={"cookie": 'other={"a":1}; hookline_session=forged.1.2'}) as c:
        assert c.get("/operations").status_code == 303  # a bad one among them is still no session


def _stream_of(server: Server, cookie: str) -> EventStream:
    return EventStream(server, httpx.Cookies({"hookline_session": cookie}))


def _signed_out_message(stream: EventStream) -> bool:
    while not stream.messages.empty():
        if stream.messages.get_nowait()[0] == "signed_out":
            return True
    return False


def test_a_live_stream_ends_when_its_session_is_signed_out(
    dash: Server, db: Database, database_url: str
) -> None:
    mine, other = sign_in(dash, "mine"), sign_in(dash, "other")
    first, second = _stream_of(dash, mine), _stream_of(dash, other)
    try:
        with dash.client(cookies={"hookline_session": mine}) as c:
            out = c.post("/logout", data={"csrf": csrf_of(c.get("/operations").text)})
            assert out.status_code == 303
        signed_out = time.monotonic()
        assert first.ended.wait(3), "the stream of a signed-out session stayed open"
        assert time.monotonic() - signed_out < 1.0 + 1.5  # the session cache time (1 s) and some slack
        assert _signed_out_message(first)
        assert not second.ended.is_set()  # the other session's stream goes on
        # Signed out elsewhere (the CLI, another process): noticed within the cache time too.
        assert run_cli("dashboard", "sessions", "revoke-all", database_url=database_url).returncode == 0
        revoked = time.monotonic()
        assert second.ended.wait(4), "the stream outlived `dashboard sessions revoke-all`"
        assert time.monotonic() - revoked < 1.0 + 2.5
        assert _signed_out_message(second)
    finally:
        first.close()
        second.close()
    with dash.client(cookies={"hookline_session": mine}) as c:
        assert c.get("/live/stream").status_code == 401  # and the browser's reconnection is refused


def test_an_open_stream_does_not_keep_an_idle_session_alive(start_server: Callable[..., Server]) -> None:
    server = start_server(env={**NO_CACHE, "HOOKLINE_DASHBOARD_SESSION_IDLE_SECONDS": "2"})
    cookie = sign_in(server)
    stream = _stream_of(server, cookie)
    try:
        assert stream.ended.wait(6), "an idle session's stream stayed open"
        assert _signed_out_message(stream)
    finally:
        stream.close()
    assert refused(server, cookie)
