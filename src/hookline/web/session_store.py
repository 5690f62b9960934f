"""The dashboard_sessions table: one row per signed-in browser, keyed by the SHA-256 of its id.

Only digests are stored, so reading the table (or a backup of it) gives no usable cookie. The
`Sessions` object (web/dashboard/session.py) caches lookups briefly; the CLI and sign-out write here directly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from hookline.store.engine import Database
from hookline.store.queries import load_queries

Q = load_queries(__package__)

USER_AGENT_MAX = 300


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class SessionRow:
    id_sha256: str
    created_at: float
    last_seen_at: float
    expires_at: float
    user_agent: str | None

    def hint(self) -> str:
        """A short handle for listings: the digest's start, which cannot be turned back into a cookie."""
        return self.id_sha256[:12]


def _row(raw: tuple[object, ...]) -> SessionRow:
    ua = raw[4]
    return SessionRow(str(raw[0]), float(str(raw[1])), float(str(raw[2])), float(str(raw[3])),
                      None if ua is None else str(ua))


def create(db: Database, id_sha256: str, now: float, expires_at: float, user_agent: str | None) -> None:
    # The user agent is only a hint for listings: shortened, and without NUL (PostgreSQL text refuses it).
    agent = (user_agent or "").replace("\x00", "")[:USER_AGENT_MAX] or None
    with db.connection() as conn, conn.transaction():
        conn.execute(
            Q.create_session,
            (id_sha256, now, now, expires_at, agent),
        )


def get(db: Database, id_sha256: str) -> SessionRow | None:
    with db.connection() as conn:
        raw = conn.fetchone(Q.get_session, (id_sha256,))
    return None if raw is None else _row(tuple(raw))


def touch(db: Database, id_sha256: str, now: float) -> None:
    with db.connection() as conn, conn.transaction():
        conn.execute(Q.touch_session, (now, id_sha256))


def delete(db: Database, id_sha256: str) -> bool:
    with db.connection() as conn, conn.transaction():
        return bool(conn.execute(Q.delete_session, (id_sha256,)).rowcount)


def delete_all(db: Database) -> int:
    with db.connection() as conn, conn.transaction():
        return int(conn.execute(Q.delete_all_sessions).rowcount)


def purge(db: Database, now: float, idle_seconds: float = 0) -> int:
    """Delete the sessions that can no longer sign anyone in: expired, or idle too long."""
    with db.connection() as conn, conn.transaction():
        return int(
            conn.execute(
                Q.purge_sessions,
                (now, _idle_cutoff(now, idle_seconds)),
            ).rowcount
        )


def list_active(db: Database, now: float, idle_seconds: float = 0) -> list[SessionRow]:
    """The sessions that still sign a browser in, most recently used first."""
    with db.connection() as conn:
        rows = conn.fetchall(
            Q.active_sessions,
            (now, _idle_cutoff(now, idle_seconds)),
        )
    return [_row(tuple(r)) for r in rows]


def _idle_cutoff(now: float, idle_seconds: float) -> float:
    # Without an idle timeout no session is too idle: every last_seen_at (unix time) is above 0.
    return now - idle_seconds if idle_seconds > 0 else 0.0
