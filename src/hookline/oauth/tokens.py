"""Access tokens that expire, refreshed with rotating refresh tokens that are never lost.

The refresh token (sealed) and its version live on the installation; the access token lives with the
provider's account (its API clients read it there), written in the same transaction. A refresh:

1. takes the lease on the version it read (one process at a time; the others wait for its result),
2. asks the provider (which revokes the old refresh token as it answers, Calendly's single use),
3. stores the new refresh token and access token only over that version.

A refusal (invalid_grant, 401) uninstalls the account, unless another process stored a newer token
meanwhile; a provider that is down marks it failing and leaves the lease, the stored token intact.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import structlog

from hookline.oauth.apps import OAuthApp
from hookline.oauth.exchange import ProviderDown, RefreshRefused, refresh_grant
from hookline.secretbox import SecretBox
from hookline.store.engine import Connection, Database
from hookline.store.queries import load_queries

log = structlog.get_logger(__name__)
Q = load_queries(__package__)

REFRESH_MARGIN = 300.0  # refreshed this long before it expires: a call never starts with a dying token
LEASE_SECONDS = 30.0  # a refresher that died lets another take over after this


class Uninstalled(Exception):
    """The account is not installed (any more): its token is not to be used."""


class RefreshUnavailable(Exception):
    """The token expired and the provider cannot refresh it now (the account is marked failing)."""


@dataclass(frozen=True)
class TokenHolder:
    """Where a provider keeps an installed account's access token (clear values in, clear values out)."""

    provider: str
    label: str  # the provider's name in messages ("Calendly")
    read: Callable[[Connection, str], str | None]
    write: Callable[[Connection, str, str], None]


@dataclass(frozen=True)
class _Row:
    sealed_refresh: str | None
    expires_at: float | None
    version: int
    installed: bool


class Refresher:
    def __init__(self, db: Database, box: SecretBox, holder: TokenHolder, app: OAuthApp, token_url: str,
                 *, margin: float = REFRESH_MARGIN, lease: float = LEASE_SECONDS) -> None:
        self.db, self.box, self.holder, self.app = db, box, holder, app
        self.token_url, self.margin, self.lease = token_url, margin, lease

    def _read(self, account: str) -> tuple[_Row | None, str | None]:
        with self.db.connection() as conn:
            row = conn.fetchone(Q.token_row, (self.holder.provider, account))
            access = self.holder.read(conn, account) if row is not None else None
        if row is None:
            return None, None
        sealed, expires, version, _lease, installed = row
        return _Row(None if sealed is None else str(sealed), None if expires is None else float(expires),
                    int(version), bool(installed)), access

    def _claim(self, account: str, version: int) -> bool:
        now = time.time()
        with self.db.connection() as conn, conn.transaction():
            cur = conn.execute(Q.claim_refresh, (now + self.lease, self.holder.provider, account, version, now))
            return bool(cur.rowcount == 1)

    async def access_token(self, session: aiohttp.ClientSession, account: str, *,
                           refused: str | None = None) -> str | None:
        """A usable access token; None when the account is not an OAuth installation (its own token
        applies). Refreshed when it expires within the margin, or when `refused` (the token an API call
        was just refused with) is still the stored one. Uninstalled / RefreshUnavailable otherwise."""
        waited_until = time.monotonic() + self.lease + 5
        while True:
            row, current = await asyncio.to_thread(self._read, account)
            if row is None:
                return None
            if not row.installed:
                raise Uninstalled(f"{self.holder.label} account {account} is uninstalled")
            if current is not None and refused is not None and current != refused:
                return current  # another process refreshed since that call was made
            fresh = row.expires_at is None or row.expires_at - time.time() > self.margin
            if current is not None and refused is None and fresh:
                return current
            if row.sealed_refresh is None:
                raise RefreshUnavailable(f"{self.holder.label} account {account} has no refresh token")
            if await asyncio.to_thread(self._claim, account, row.version):
                done = await self._refresh(session, account, row, current, refused is not None)
                if done is not None:
                    return done
                continue  # our lease was taken over and the other result stored: read it
            if time.monotonic() > waited_until:
                raise RefreshUnavailable(f"another process has been refreshing {account} for too long")
            await asyncio.sleep(0.05)  # another process is refreshing this version: wait for its result

    async def _refresh(self, session: aiohttp.ClientSession, account: str, row: _Row, current: str | None,
                       forced: bool) -> str | None:
        provider = self.holder.provider
        try:
            refresh_token = self.box.open(row.sealed_refresh or "")
            secret = self.app.client_secret(self.box)
            grant = await refresh_grant(session, self.token_url, refresh_token=refresh_token,
                                        client_id=self.app.client_id, client_secret=secret,
                                        provider=self.holder.label)
        except RefreshRefused as exc:
            with self.db.connection() as conn, conn.transaction():
                gone = conn.execute(Q.refresh_refused, (time.time(), "refresh_refused", provider, account,
                                                        row.version)).rowcount == 1
            if gone:
                log.warning("oauth.uninstalled", provider=provider, account=account, reason=str(exc))
                raise Uninstalled(f"{self.holder.label} account {account} is uninstalled ({exc})") from None
            return None
        except Exception as exc:  # down, 5xx, a secret that cannot be opened: failing, not uninstalled
            message = str(exc) if isinstance(exc, ProviderDown) else type(exc).__name__
            with self.db.connection() as conn, conn.transaction():
                conn.execute(Q.refresh_failed, (time.time(), message[:200], provider, account, row.version))
            log.error("oauth.refresh_failed", provider=provider, account=account, error=message)
            still_valid = row.expires_at is not None and row.expires_at > time.time()
            if current is not None and still_valid and not forced:
                return current  # refreshing early failed; the token works until it expires
            raise RefreshUnavailable(f"{self.holder.label} cannot refresh {account} now: {message}") from None
        sealed = self.box.seal(grant.refresh_token) if grant.refresh_token else row.sealed_refresh
        with self.db.connection() as conn, conn.transaction():
            stored = conn.execute(Q.store_refresh, (sealed, grant.expires_at, provider, account,
                                                    row.version)).rowcount == 1
            if stored:
                self.holder.write(conn, account, grant.access_token)
        if not stored:  # only when our lease ran out and another refresher stored first
            log.error("oauth.refresh_lost_race", provider=provider, account=account)
            return None
        log.info("oauth.refreshed", provider=provider, account=account, expires_at=grant.expires_at)
        return grant.access_token


def mark_failing(db: Database, provider: str, account: str, failure: str) -> None:
    with db.connection() as conn, conn.transaction():
        conn.execute(Q.mark_failing, (time.time(), failure[:200], provider, account))


def clear_failing(db: Database, provider: str, account: str) -> None:
    with db.connection() as conn, conn.transaction():
        conn.execute(Q.clear_failing, (provider, account))


def failing_accounts(db: Database, provider: str) -> set[str]:
    with db.connection() as conn:
        return {str(a) for (a,) in conn.fetchall(Q.failing_accounts, (provider,))}


def note_check(db: Database, provider: str, account: str, failure: str | None, failing: set[str]) -> None:
    """A watchdog's verdict on an installed account: failing (its API calls fail with 5xx or on the
    network, its webhook stays disabled...) or working again. `failing`: failing_accounts read at the
    pass's start, so only a change is written (a pass over thousands of working accounts writes
    nothing). An account installed with an API key has no installation row: a no-op."""
    if failure is not None:
        if account not in failing:  # already failing: its first failure and since when stay
            mark_failing(db, provider, account, failure)
    elif account in failing:
        clear_failing(db, provider, account)


def installed_accounts(conn: Connection, provider: str) -> dict[str, str]:
    """account -> the provider's customer id, of the installations installed now."""
    return {str(a): str(e) for a, e in conn.fetchall(Q.installed_accounts, (provider,))}


def uninstalled_accounts(conn: Connection, provider: str) -> set[str]:
    return {str(a) for (a,) in conn.fetchall(Q.uninstalled_accounts, (provider,))}


def token_url_for(authorize_url: str) -> str:
    """The token endpoint next to the authorize page (auth.calendly.com/oauth/authorize -> /oauth/token,
    auth.monday.com/oauth2/authorize -> /oauth2/token)."""
    base, _, _last = authorize_url.rstrip("/").rpartition("/")
    return f"{base}/token"
