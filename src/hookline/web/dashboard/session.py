"""Dashboard sessions: signed cookies bound to the admin token, and CSRF tokens derived from them.

A session cookie is `<random id>.<expiry>.<HMAC>`; the HMAC key is random, generated once and kept
in the `settings` table so that every `serve` process on the database accepts the same sessions.
The HMAC also covers the admin token's digest: `hookline admin-token --reset` ends every session.
The CSRF token of a session is another HMAC of its id, sent back in forms (field `csrf`) or in the
`x-csrf-token` header; no state is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Receive, Scope, Send

from hookline.store.engine import Database
from hookline.web.admin_token import AdminTokenVerifier

COOKIE = "hookline_session"
MAX_AGE = 12 * 3600
_KEY = "dashboard_session_key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Session:
    id: str
    expires_at: int
    csrf: str


class Sessions:
    def __init__(self, db: Database, verifier: AdminTokenVerifier) -> None:
        self._db = db
        self._verifier = verifier
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def _signing_key(self) -> bytes:
        if self._key is None:
            with self._lock:
                if self._key is None:
                    self._key = self._load_key()
        return self._key

    def _load_key(self) -> bytes:
        with self._db.connection() as conn:
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (_KEY, secrets.token_hex(32)),
            )
            return bytes.fromhex(str(conn.scalar("SELECT value FROM settings WHERE key = ?", (_KEY,))))

    def _mac(self, *parts: str) -> str:
        return hmac.new(self._signing_key(), "\x00".join(parts).encode(), hashlib.sha256).hexdigest()

    def issue(self, now: float | None = None) -> str:
        """A new session cookie value (call only after the admin token was verified)."""
        sid = secrets.token_urlsafe(18)
        expires = int(now if now is not None else time.time()) + MAX_AGE
        return f"{sid}.{expires}.{self._mac('session', sid, str(expires), self._verifier.fingerprint() or '')}"

    def check(self, cookie: str | None, now: float | None = None) -> Session | None:
        if not cookie or cookie.count(".") != 2:
            return None
        sid, expires, mac = cookie.split(".")
        if not expires.isdigit() or int(expires) < (now if now is not None else time.time()):
            return None
        fingerprint = self._verifier.fingerprint()
        if fingerprint is None:
            return None
        if not hmac.compare_digest(mac, self._mac("session", sid, expires, fingerprint)):
            return None
        return Session(sid, int(expires), self._mac("csrf", sid))

    @staticmethod
    def csrf_ok(session: Session | None, presented: str | None) -> bool:
        return session is not None and bool(presented) and hmac.compare_digest(session.csrf, presented or "")


def cookie_value(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is no session, not an error
                return None
            morsel = jar.get(COOKIE)
            if morsel is not None:
                return morsel.value
    return None


def header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


class SessionLayer:
    """ASGI middleware: a valid session cookie marks the request (scope["hookline.session"]).

    It also authenticates the admin API for the dashboard's own requests (the audio player, JSON
    links): safe methods with the cookie alone, unsafe ones only with the session's CSRF token in
    `x-csrf-token`, so a cross-site form can never make the browser act.
    """

    def __init__(self, app: ASGIApp, sessions: Sessions) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = cookie_value(scope)
            session = None
            if raw is not None:
                from starlette.concurrency import run_in_threadpool

                session = await run_in_threadpool(self.sessions.check, raw)
            scope["hookline.session"] = session
            if session is not None and (
                scope["method"] in SAFE_METHODS or Sessions.csrf_ok(session, header(scope, b"x-csrf-token"))
            ):
                scope["hookline.admin"] = True
        await self.app(scope, receive, send)
