"""Single-use `state` values bound to the browser that started the install (CSRF).

The install route sets a random cookie and stores SHA-256 digests of the state and of that cookie;
the callback accepts a state only from the browser holding the cookie, once, before it expires.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from hookline.store.engine import Connection, Database
from hookline.store.queries import load_queries

Q = load_queries(__package__)

COOKIE = "hookline_oauth"
STATE_TTL = 600.0  # an admin has ten minutes to consent
MAX_PENDING = 10_000  # the install route is public: anyone can start installs, nobody can fill the table


class TooManyPending(Exception):
    """More unfinished installs than MAX_PENDING within STATE_TTL."""


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_browser_id() -> str:
    return secrets.token_urlsafe(32)


def issue(db: Database, provider: str, browser_id: str, ttl: float = STATE_TTL, limit: int = MAX_PENDING,
          payload: str | None = None) -> str:
    """A fresh state for this browser (expired ones are purged on the way); TooManyPending past `limit`.
    `payload` comes back to the callback that takes the state (a PKCE verifier, an account)."""
    with db.connection() as conn, conn.transaction():
        return issue_on(conn, provider, browser_id, ttl, limit, payload)


def issue_on(conn: Connection, provider: str, browser_id: str, ttl: float = STATE_TTL, limit: int = MAX_PENDING,
             payload: str | None = None) -> str:
    """`issue` in the caller's transaction: a TooManyPending there rolls back what it wrote with it."""
    state = secrets.token_urlsafe(32)
    now = time.time()
    conn.execute(Q.purge_expired_states, (now,))
    if int(conn.scalar(Q.count_states)) >= limit:
        raise TooManyPending(f"{limit} installs are waiting for consent")
    conn.execute(Q.issue_state_with_payload, (_sha(state), provider, _sha(browser_id), now + ttl, payload))
    return state


def consume(db: Database, provider: str, state: str, browser_id: str | None) -> bool:
    """True once for a state issued to this browser and not expired; False for anything else.

    A state presented without its cookie is left alone, so a forged callback cannot spend the
    admin's state before the admin's own browser comes back."""
    if not state or not browser_id:
        return False
    with db.connection() as conn, conn.transaction():
        cur = conn.execute(Q.consume_state, (_sha(state), provider, _sha(browser_id), time.time()))
        return bool(cur.rowcount == 1)


def take(db: Database, provider: str, state: str, browser_id: str | None) -> tuple[bool, str | None]:
    """Like consume, with the state's payload: (True, payload) once, (False, None) for anything else."""
    if not state or not browser_id:
        return False, None
    with db.connection() as conn, conn.transaction():
        rows = conn.fetchall(Q.take_state, (_sha(state), provider, _sha(browser_id), time.time()))
    return (True, None if rows[0][0] is None else str(rows[0][0])) if rows else (False, None)
