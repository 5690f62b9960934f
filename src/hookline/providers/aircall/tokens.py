"""The Aircall webhook token registry: which token belongs to which account.

Aircall puts the webhook's token in every event body; it is the only proof of origin. We keep only
SHA-256 digests, look requests up by digest and confirm with a constant-time comparison, so neither
the database nor response timing gives a token away.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from hookline.providers.kit.credentials import ReloadingCache, mask
from hookline.store.engine import Connection, Database
from hookline.store.queries import load_queries

Q = load_queries(__package__)

__all__ = ["TokenCache", "TokenEntry", "TokenStore", "TokenTaken", "digest", "mask"]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenEntry:
    hint: str
    account: str
    webhook_id: str | None
    created_at: float
    token_sha256: str


class TokenTaken(ValueError):
    """The token is registered for another account; the message names the accounts, never the token."""


class TokenStore:
    """Database access for tokens (used by the CLI, the webhook lifecycle and the cache)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, token: str, account: str, webhook_id: str | None = None, *, replace: bool = False) -> bool:
        """Register a token; returns False when it was already registered.

        A token registered for another account is refused (TokenTaken) unless `replace`: moving it
        silently would file that account's events under this one.
        """
        if not token or not token.strip():
            raise ValueError("the token is empty")
        if not account or not account.strip():
            raise ValueError("the account name is empty")
        with self.db.connection() as conn, conn.transaction():
            owner = conn.scalar(Q.token_owner, (digest(token),))
            existed = owner is not None
            if existed and owner != account and not replace:
                raise TokenTaken(f"this token belongs to account {owner!r}, not {account!r}: add --replace to move it")
            conn.execute(Q.save_token, (digest(token), mask(token), account, webhook_id, time.time()))
        return not existed

    def remove(self, token: str) -> bool:
        with self.db.connection() as conn:
            cur = conn.execute(Q.remove_token, (digest(token),))
            return bool(cur.rowcount)

    def remove_webhook(self, webhook_id: str) -> int:
        with self.db.connection() as conn:
            return int(conn.execute(Q.remove_webhook_tokens, (webhook_id,)).rowcount)

    def entries(self, account: str | None = None) -> list[TokenEntry]:
        query, params = (Q.tokens, ()) if account is None else (Q.tokens_of_account, (account,))
        with self.db.connection() as conn:
            rows = conn.fetchall(query, params)
        return [TokenEntry(*row) for row in rows]

    @staticmethod
    def digests(conn: Connection) -> dict[str, str]:
        """Tokens the receiver accepts: not those of an account uninstalled through OAuth."""
        return dict(conn.fetchall(Q.accepted_tokens))


class TokenCache(ReloadingCache):
    """The token map for the hot path (kit.credentials.ReloadingCache: reloaded every `ttl` seconds,
    and at once on a miss).

    Entries are found by a prefix of the digest and confirmed by comparing the whole digest with
    hmac.compare_digest.
    """

    def __init__(self, db: Database, ttl: float) -> None:
        super().__init__(db, ttl)
        self._by_prefix: dict[str, list[tuple[str, str]]] = {}

    def _load(self) -> None:
        with self.db.connection() as conn:
            rows = TokenStore.digests(conn)
        table: dict[str, list[tuple[str, str]]] = {}
        for full, account in rows.items():
            table.setdefault(full[:16], []).append((full, account))
        self._by_prefix = table

    def account_for(self, token: str) -> str | None:
        wanted = digest(token)
        return self._find(lambda: self._match(wanted))

    def _match(self, wanted: str) -> str | None:
        for full, account in self._by_prefix.get(wanted[:16], ()):
            if hmac.compare_digest(full, wanted):
                return account
        return None
