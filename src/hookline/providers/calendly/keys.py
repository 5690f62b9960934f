"""Webhook signing keys: which key belongs to which account, and the hot-path cache that finds the
account whose key signed a request.

An account has few keys (one per subscription, more while rotating), so the receiver simply tries
each: one HMAC per key, compared in constant time. Keys are stored sealed by the SecretBox (with a
SHA-256 digest for uniqueness) and opened when the cache loads them.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import msgspec
import structlog

from hookline.providers.calendly import signature
from hookline.providers.calendly.masking import mask
from hookline.providers.kit.credentials import ReloadingCache
from hookline.secretbox import SecretBox, SecretBoxError
from hookline.store.engine import Connection, Database
from hookline.store.queries import load_queries

Q = load_queries(__package__)

log = structlog.get_logger(__name__)

# After its subscription is deleted, a key keeps verifying this long (Calendly may still be retrying).
RETIRE_GRACE_SECONDS = 24 * 3600


def generate() -> str:
    return secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class KeyEntry:
    id: int
    account: str
    hint: str
    created_at: float
    expires_at: float | None


class KeyStore:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    def add(self, account: str, key: str) -> int:
        """Register a key for an account (idempotent); returns its id."""
        key = key.strip()
        if not key:
            raise ValueError("the signing key is empty")
        with self.db.connection() as conn:
            row = conn.fetchone(Q.signing_key_by_digest, (digest(key),))
            if row is not None:
                if row[1] != account:
                    raise ValueError(f"that signing key belongs to another account ({row[1]})")
                conn.execute(Q.unretire_signing_key, (row[0],))
                return int(row[0])
            if conn.scalar(Q.account_exists, (account,)) is None:
                raise ValueError(f"no Calendly account named {account!r}")
            # fetchall: the statement must run to its end before the next one (SQLite autocommit).
            rows = conn.fetchall(
                Q.add_signing_key,
                (account, self.box.seal(key), digest(key), mask(key), time.time()),
            )
            return int(rows[0][0])

    def secret(self, key_id: int) -> str | None:
        """The key in clear (None when there is no such key); raises SecretBoxError when it cannot be opened."""
        with self.db.connection() as conn:
            value = conn.scalar(Q.signing_key, (key_id,))
        return None if value is None else self.box.open(str(value))

    def retire(self, key_id: int, grace: float = RETIRE_GRACE_SECONDS) -> None:
        with self.db.connection() as conn:
            conn.execute(Q.retire_signing_key, (time.time() + grace, key_id))

    def remove(self, key_id: int) -> bool:
        with self.db.connection() as conn:
            return bool(conn.execute(Q.remove_signing_key, (key_id,)).rowcount)

    def entries(self, account: str | None = None) -> list[KeyEntry]:
        query, params = (Q.signing_keys, ()) if account is None else (Q.signing_keys_of_account, (account,))
        with self.db.connection() as conn:
            rows = conn.fetchall(query, params)
        return [KeyEntry(*row) for row in rows]

    @staticmethod
    def live(conn: Connection, now: float) -> list[tuple[str, str]]:
        """(key, account) of every key still accepted."""
        rows = conn.fetchall(Q.live_signing_keys, (now,))
        return [(str(k), str(a)) for k, a in rows]


class KeyCache(ReloadingCache):
    """Keys in memory for the hot path (kit.credentials.ReloadingCache: reloaded every `ttl` seconds,
    and at once on a miss, so that a key added a moment ago works at once)."""

    def __init__(self, db: Database, ttl: float, box: SecretBox) -> None:
        super().__init__(db, ttl)
        self.box = box
        self._keys: list[tuple[str, str]] = []
        self._unopened = 0
        # OAuth installs: the app's one signing key signs every installed organization's events; the
        # envelope's `created_by` (who created the subscription: the installer) names the account.
        self._app_key: str | None = None
        self._creators: dict[str, str] = {}

    def _load(self) -> None:
        with self.db.connection() as conn:
            sealed = KeyStore.live(conn, time.time())
            app_key = conn.scalar(Q.app_signing_key)
            creators = {str(u): str(a) for u, a in conn.fetchall(Q.installed_creators)}
        keys, unopened = [], 0
        self._app_key = None
        if app_key is not None:
            try:
                self._app_key = self.box.open(str(app_key))
            except SecretBoxError:
                unopened += 1
        self._creators = creators
        for value, account in sealed:
            try:
                keys.append((self.box.open(value), account))
            except SecretBoxError:
                unopened += 1
        if unopened != self._unopened:  # said once, not at every reload
            self._unopened = unopened
            if unopened:
                log.error("calendly signing keys cannot be opened: check HOOKLINE_SECRET_KEY", keys=unopened)
        self._keys = keys

    @property
    def unreadable(self) -> int:
        """How many live keys could not be opened at the last reload (a wrong HOOKLINE_SECRET_KEY)."""
        return self._unopened

    def account_for(self, timestamp: int, body: bytes, signatures: list[str]) -> str | None:
        return self._find(lambda: self._match(timestamp, body, signatures))

    def _match(self, timestamp: int, body: bytes, signatures: list[str]) -> str | None:
        for key, account in self._keys:
            if signature.matches(key, timestamp, body, signatures):
                return account
        if self._app_key is not None and self._creators and signature.matches(self._app_key, timestamp, body,
                                                                                signatures):
            try:
                creator = _decode_creator(body).created_by
            except msgspec.DecodeError:  # msgspec.ValidationError is one
                return None
            # An uninstalled organization's events match no installed account: refused.
            return self._creators.get(creator) if creator else None
        return None


class _Creator(msgspec.Struct):
    created_by: str | None = None


_decode_creator = msgspec.json.Decoder(_Creator).decode
