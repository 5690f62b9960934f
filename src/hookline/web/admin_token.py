"""The admin token: from HOOKLINE_ADMIN_TOKEN, or generated once and kept as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from hookline.config import Settings
from hookline.store import stored_settings
from hookline.store.engine import Database

_KEY = "admin_token_sha256"
MIN_LENGTH = 24  # `serve` warns about a shorter HOOKLINE_ADMIN_TOKEN (generated ones are 46)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_weak(settings: Settings) -> bool:
    """HOOKLINE_ADMIN_TOKEN set and short enough to guess (sign-in is throttled, not impossible)."""
    token = settings.admin_token.get_secret_value() if settings.admin_token else None
    return token is not None and len(token.strip()) < MIN_LENGTH


def ensure(db: Database, settings: Settings) -> str | None:
    """Make sure a token exists; returns a newly generated token (to print once), else None."""
    if settings.admin_token is not None:
        return None
    with db.connection() as conn:
        if stored_settings.get(conn, _KEY) is not None:
            return None
    return reset(db)


def reset(db: Database) -> str:
    """Generate a new token, replacing any stored one; the caller shows it to the user once."""
    token = "hl_" + secrets.token_urlsafe(32)
    with db.connection() as conn:
        stored_settings.put(conn, _KEY, _digest(token))
    return token


class AdminTokenVerifier:
    """Checks a presented token in constant time against the configured or stored one."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        configured = settings.admin_token.get_secret_value() if settings.admin_token else None
        self._configured_digest = _digest(configured) if configured else None

    def _expected(self) -> str | None:
        if self._configured_digest is not None:
            return self._configured_digest
        # Read each time so `hookline admin-token --reset` takes effect without a restart.
        with self._db.connection() as conn:
            return stored_settings.get(conn, _KEY)

    def fingerprint(self) -> str | None:
        """A value that changes when the admin token does (dashboard sessions are bound to it)."""
        return self._expected()

    def verify(self, presented: str | None) -> bool:
        expected = self._expected()
        if not presented or expected is None:
            return False
        return hmac.compare_digest(expected, _digest(presented))
