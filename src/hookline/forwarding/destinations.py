"""The `destinations` table: the user's endpoints, their filters, pause/disable and breaker state.

Every change bumps a version in `settings`, which the fan-out hook reads once per group commit to
know when its in-memory copy of the destination list is stale.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hookline.forwarding import patterns, signing
from hookline.outbound import OutboundPolicy, OutboundRefused, without_credentials
from hookline.store.engine import Connection, Database
from hookline.store.queries import load_queries
from hookline.timeparse import iso

VERSION_KEY = "forwarding.destinations_version"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
Q = load_queries(__package__)


class DestinationError(ValueError):
    """A request about destinations that cannot be done; the message is for the user."""


@dataclass(frozen=True)
class Destination:
    id: int
    name: str
    url: str
    events: tuple[str, ...]
    account: str | None
    secret: str
    ordered: bool
    paused: bool
    disabled_reason: str | None
    disabled_at: float | None
    created_at: float
    consecutive_failures: int
    breaker_open_until: float | None

    @classmethod
    def from_row(cls, row: Any) -> Destination:
        r = list(row)
        r[3] = tuple(json.loads(r[3]))
        r[6], r[7] = bool(r[6]), bool(r[7])
        return cls(*r)

    @property
    def active(self) -> bool:
        """Gets new deliveries (a paused destination queues them; a disabled one gets none)."""
        return self.disabled_reason is None

    def state(self, now: float) -> str:
        if self.disabled_reason is not None:
            return "disabled"
        if self.paused:
            return "paused"
        if self.breaker_open_until is not None:
            return "breaker-open" if self.breaker_open_until > now else "breaker-half-open"
        return "active"

    def public(self, now: float | None = None) -> dict[str, Any]:
        """What listings show: everything but the secret, which is masked."""
        return {
            "id": self.id,
            "name": self.name,
            "url": without_credentials(self.url),
            "events": list(self.events),
            "account": self.account,
            "secret": signing.mask(self.secret),
            "ordered": self.ordered,
            "paused": self.paused,
            "disabled_reason": self.disabled_reason,
            "disabled_at": self.disabled_at,
            "created_at": self.created_at,
            "created_at_iso": iso(self.created_at),
            "disabled_at_iso": iso(self.disabled_at),
            "state": self.state(time.time() if now is None else now),
            "consecutive_failures": self.consecutive_failures,
            "breaker_open_until": self.breaker_open_until,
        }


def validate_name(name: str) -> str:
    if not _NAME.match(name):
        raise DestinationError(
            f"invalid destination name {name!r}: 1-63 letters, digits, '_', '.', '-', starting with a letter or digit"
        )
    return name


def validate_url(url: str, policy: OutboundPolicy) -> str:
    """An http(s) URL the outbound policy allows. user:password@ is kept (some endpoints want Basic
    auth) and masked wherever the URL is shown."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationError(f"invalid URL {without_credentials(url)!r}: use http://host/path or https://host/path")
    try:
        policy.check_url(text)
    except OutboundRefused as exc:
        raise DestinationError(f"refused URL {without_credentials(text)!r}: {exc}") from None
    return text


def bump_version(conn: Connection) -> None:
    conn.execute(Q.bump_destinations_version, (VERSION_KEY, uuid.uuid4().hex))


def current_version(conn: Connection) -> str | None:
    value = conn.scalar(Q.destinations_version, (VERSION_KEY,))
    return None if value is None else str(value)


def load_all(conn: Connection) -> list[Destination]:
    return [Destination.from_row(r) for r in conn.fetchall(Q.all_destinations)]


@dataclass(frozen=True)
class NewDestination:
    """A destination's settings, checked before anything touches the database."""

    name: str
    url: str
    events: list[str]
    account: str | None
    secret: str | None

    @classmethod
    def checked(
        cls,
        name: str,
        url: str,
        events: list[str] | None,
        account: str | None,
        secret: str | None,
        policy: OutboundPolicy,
    ) -> NewDestination:
        validate_name(name)
        try:
            wanted = [patterns.validate(p) for p in (events or ["*"])]
            key = signing.validate_secret(secret) if secret is not None else None
        except ValueError as exc:
            raise DestinationError(str(exc)) from exc
        if account is not None and not account.strip():
            raise DestinationError("the account filter is empty")
        return cls(name, validate_url(url, policy), wanted, account.strip() if account else None, key)


class DestinationStore:
    """Add, list, pause, resume and remove destinations (the CLI and admin API use this)."""

    def __init__(self, db: Database, policy: OutboundPolicy | None = None) -> None:
        self.db = db
        self.policy = policy or OutboundPolicy.default()  # the CLI passes the configured one

    def add(
        self,
        name: str,
        url: str,
        events: list[str] | None = None,
        account: str | None = None,
        secret: str | None = None,
        ordered: bool = False,
    ) -> tuple[Destination, str | None]:
        """Returns the destination and the secret when one was generated (to show once)."""
        spec = NewDestination.checked(name, url, events, account, secret, self.policy)
        key, generated = spec.secret, None
        if key is None:
            key = generated = signing.generate_secret()
        with self.db.connection() as conn, conn.transaction():
            if conn.scalar(Q.destination_exists, (name,)) is not None:
                raise DestinationError(f"a destination named {name!r} exists already")
            conn.execute(
                Q.add_destination,
                (name, spec.url, json.dumps(spec.events), spec.account, key, ordered, time.time()),
            )
            bump_version(conn)
        return self.get(name), generated

    def get(self, name: str) -> Destination:
        with self.db.connection() as conn:
            row = conn.fetchone(Q.destination_by_name, (name,))
        if row is None:
            raise DestinationError(f"no destination named {name!r}")
        return Destination.from_row(row)

    def list(self) -> list[Destination]:
        with self.db.connection() as conn:
            return load_all(conn)

    def set_paused(self, name: str, paused: bool) -> Destination:
        """Pause queues deliveries; resume also clears a 410 disable and closes the breaker."""
        with self.db.connection() as conn, conn.transaction():
            cur = conn.execute(Q.pause_destination if paused else Q.resume_destination, (paused, name))
            if not cur.rowcount:
                raise DestinationError(f"no destination named {name!r}")
            bump_version(conn)
            notify(conn)
        return self.get(name)

    def remove(self, name: str) -> int:
        """Delete the destination and its deliveries; returns how many deliveries went with it."""
        with self.db.connection() as conn, conn.transaction():
            dest_id = conn.scalar(Q.destination_id, (name,))
            if dest_id is None:
                raise DestinationError(f"no destination named {name!r}")
            dropped = int(conn.scalar(Q.count_destination_deliveries, (dest_id,)))
            conn.execute(Q.delete_destination_deliveries, (dest_id,))
            conn.execute(Q.delete_destination, (dest_id,))
            bump_version(conn)
        return dropped


CHANNEL = "hookline_deliveries"


def notify(conn: Connection) -> None:
    """Wake dispatchers in other processes (PostgreSQL LISTEN/NOTIFY; sent at COMMIT)."""
    conn.notify(CHANNEL)
