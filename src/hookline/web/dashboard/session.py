"""Dashboard sessions: server-side records behind signed cookies, and CSRF tokens derived from them.

A session cookie is `<random id>.<expiry>.<HMAC>`. The HMAC key is random, generated once and kept
in the `settings` table so that every `serve` process on the database accepts the same sessions;
it also covers the admin token's digest, so `hookline admin-token --reset` ends every session. A
cookie with a good HMAC is only a candidate: its id must name a row of `dashboard_sessions`
(session_store.py, which holds the id's SHA-256 only). Sign-out deletes the row, so a copied cookie
stops working; other processes notice within `dashboard_session_cache_seconds`, the life of the
in-process lookup cache that spares the database a query per request.
The CSRF token of a session is another HMAC of its id, sent back in forms (field `csrf`) or in the
`x-csrf-token` header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, replace

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from hookline.store.engine import Database
from hookline.store.queries import load_queries
from hookline.web import session_store
from hookline.web.admin_token import AdminTokenVerifier
from hookline.web.reads import in_thread
from hookline.web.session_store import SessionRow

Q = load_queries(__package__)

COOKIE = "hookline_session"
MAX_AGE = 12 * 3600
_KEY = "dashboard_session_key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# last_seen_at is written at most this often per session (a write per request would be wasteful);
# with an idle timeout, at least four times per timeout so that the timeout stays accurate.
TOUCH_SECONDS = 60.0
_CACHE_MAX = 10_000


@dataclass(frozen=True)
class Session:
    id: str
    expires_at: int
    csrf: str


class Sessions:
    def __init__(
        self, db: Database, verifier: AdminTokenVerifier, cache_seconds: float = 1.0, idle_seconds: float = 0.0
    ) -> None:
        self._db = db
        self._verifier = verifier
        self._key: bytes | None = None
        self._lock = threading.Lock()
        self.cache_seconds = cache_seconds
        self.idle_seconds = idle_seconds
        self._touch_every = min(TOUCH_SECONDS, idle_seconds / 4) if idle_seconds > 0 else TOUCH_SECONDS
        # id digest -> (monotonic time of the lookup, the row or None for "no such session")
        self._cache: dict[str, tuple[float, SessionRow | None]] = {}

    def _signing_key(self) -> bytes:
        if self._key is None:
            with self._lock:
                if self._key is None:
                    self._key = self._load_key()
        return self._key

    def _load_key(self) -> bytes:
        with self._db.connection() as conn:
            conn.execute(Q.session_key_insert, (_KEY, secrets.token_hex(32)))
            return bytes.fromhex(str(conn.scalar(Q.session_key, (_KEY,))))

    def _mac(self, *parts: str) -> str:
        return hmac.new(self._signing_key(), "\x00".join(parts).encode(), hashlib.sha256).hexdigest()

    def issue(self, user_agent: str | None = None, now: float | None = None) -> str:
        """A new session (its row and cookie value); call only after the admin token was verified."""
        now = now if now is not None else time.time()
        # Sign-in is rare and already writes: the moment to drop rows that can sign nobody in.
        session_store.purge(self._db, now, self.idle_seconds)
        sid = secrets.token_urlsafe(32)
        expires = int(now) + MAX_AGE
        session_store.create(self._db, session_store.digest(sid), now, expires, user_agent)
        return f"{sid}.{expires}.{self._mac('session', sid, str(expires), self._verifier.fingerprint() or '')}"

    def check(self, cookie: str | None, now: float | None = None, touch: bool = True) -> Session | None:
        """The session a cookie names, or None. `touch=False` looks without counting it as use (an open
        live stream re-checks its session without keeping an idle one alive)."""
        if not cookie or cookie.count(".") != 2:
            return None
        now = now if now is not None else time.time()
        sid, expires, mac = cookie.split(".")
        if not expires.isdigit() or int(expires) < now:
            return None
        fingerprint = self._verifier.fingerprint()
        if fingerprint is None:
            return None
        # The HMAC first: a forged cookie costs no database query.
        if not hmac.compare_digest(mac, self._mac("session", sid, expires, fingerprint)):
            return None
        key = session_store.digest(sid)
        row = self._row(key)
        if row is not None and self._idle(row, now):
            row = self._row(key, fresh=True)  # another process may have seen it used since we cached it
        if row is None or row.expires_at <= now or self._idle(row, now):
            return None
        if touch and now - row.last_seen_at >= self._touch_every:
            session_store.touch(self._db, key, now)
            with self._lock:
                self._cache[key] = (time.monotonic(), replace(row, last_seen_at=now))
        return Session(sid, int(expires), self._mac("csrf", sid))

    def _idle(self, row: SessionRow, now: float) -> bool:
        return self.idle_seconds > 0 and now - row.last_seen_at > self.idle_seconds

    def _row(self, key: str, fresh: bool = False) -> SessionRow | None:
        at = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and at - hit[0] < self.cache_seconds and not fresh:
            return hit[1]
        row = session_store.get(self._db, key)
        with self._lock:
            if len(self._cache) >= _CACHE_MAX:
                self._cache = {k: v for k, v in self._cache.items() if at - v[0] < self.cache_seconds}
            self._cache[key] = (at, row)
        return row

    def revoke(self, session: Session) -> None:
        """Sign-out: the row goes, and this process refuses the cookie at once (others within the cache time)."""
        key = session_store.digest(session.id)
        session_store.delete(self._db, key)
        with self._lock:
            self._cache[key] = (time.monotonic(), None)

    def revoke_all(self) -> int:
        """Sign out everywhere: every session's row goes; returns how many there were."""
        count = session_store.delete_all(self._db)
        with self._lock:
            self._cache.clear()
        return count

    def active(self) -> list[SessionRow]:
        return session_store.list_active(self._db, time.time(), self.idle_seconds)

    @staticmethod
    def csrf_ok(session: Session | None, presented: str | None) -> bool:
        return session is not None and bool(presented) and hmac.compare_digest(session.csrf, presented or "")


def cookie_value(scope: Scope) -> str | None:
    """Our cookie from the Cookie header(s). Starlette's parser, not SimpleCookie: SimpleCookie drops
    the whole header when another app on the host set a cookie it cannot parse (`other={"a":1}`)."""
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            found = cookie_parser(value.decode("latin-1")).get(COOKIE)
            if found:
                return found
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
                session = await in_thread(self.sessions.check, raw)
            scope["hookline.session"] = session
            if session is not None and (
                scope["method"] in SAFE_METHODS or Sessions.csrf_ok(session, header(scope, b"x-csrf-token"))
            ):
                scope["hookline.admin"] = True
        await self.app(scope, receive, send)
