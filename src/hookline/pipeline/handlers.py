"""What workers run: event handlers, registered per provider through `Provider.handlers()`.

A handler gets a batch of stored events of its provider and writes its effects through the given
connection, inside the worker's transaction (which also deletes the jobs). Handlers must be
idempotent and order-independent: a batch may be replayed after a crash, events arrive in any order,
and `hookline rebuild` replays the whole log.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hookline.store.engine import Connection

if TYPE_CHECKING:
    from hookline.runtime import Runtime


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as the log holds it."""

    id: int
    provider: str
    account: str
    event: str
    origin: str
    occurred_at: float | None
    received_at: float
    body: bytes


class Unprocessable(Exception):
    """This event can never be processed (e.g. a payload of the wrong shape): park it without retrying."""


def is_permanent(exc: BaseException) -> bool:
    """Whether a handler's error comes from the event's values, so that retrying cannot help and its
    job is parked at once: Unprocessable; a data error from the database (PostgreSQL: NUL in text, a
    number out of range, a character the encoding cannot hold; SQLite: an integer beyond 64 bits);
    a ValueError or OverflowError raised by converting a value. A lost connection, a lock timeout or
    a serialization failure is not one: those are retried."""
    if isinstance(exc, Unprocessable | OverflowError | ValueError | sqlite3.DataError):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency; SQLite-only installs may drop it
        return False
    return isinstance(exc, psycopg.DataError)


class EventHandler(ABC):
    """Turns events into effects (projection rows, ...)."""

    name: str
    # Tables this handler owns; `hookline rebuild` empties them before replaying the log.
    tables: tuple[str, ...] = ()
    # False: acts on events as they arrive (rules), so `hookline rebuild` does not replay the log into it.
    replayable: bool = True

    @abstractmethod
    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Apply a batch inside the caller's transaction. Raise Unprocessable for a hopeless event."""

    def after_commit(self) -> None:
        """Called by the worker after a batch it applied committed (e.g. to wake a loop that reads the result)."""

    def reset(self, conn: Connection) -> None:
        """Empty this handler's tables (inside the caller's transaction)."""
        for table in self.tables:
            conn.execute(f"DELETE FROM {table}")


Registry = dict[str, list[EventHandler]]


def registry(runtime: Runtime) -> Registry:
    """Handlers by provider name, built once per runtime."""
    found: Registry | None = runtime.state.get("pipeline.handlers")
    if found is None:
        core = [make(runtime) for make in runtime.core_handlers]
        found = {p.name: [*p.handlers(runtime), *core] for p in runtime.providers}
        # Events hookline records about itself (automations/signals.py: failed sign-ins) have no
        # provider of their own: only the core's handlers (the rule matcher) see them.
        found.setdefault("hookline", list(core))
        runtime.state["pipeline.handlers"] = found
    return found


def unique_handlers(handlers: Registry) -> list[EventHandler]:
    """Each handler once (the core's are shared by every provider)."""
    seen: dict[int, EventHandler] = {}
    for hs in handlers.values():
        for h in hs:
            seen.setdefault(id(h), h)
    return list(seen.values())


_EVENT_COLUMNS = "id, provider, account, event, origin, occurred_at, received_at, body"


def _stored(row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(
        int(row[0]), row[1], row[2], row[3], row[4],
        None if row[5] is None else float(row[5]), float(row[6]), bytes(row[7]),
    )


def load_events(conn: Connection, ids: Sequence[int]) -> list[StoredEvent]:
    """The given events, in id order (missing ids are skipped)."""
    if not ids:
        return []
    if conn.dialect == "postgresql":
        rows = conn.fetchall(f"SELECT {_EVENT_COLUMNS} FROM events WHERE id = ANY(?) ORDER BY id", (list(ids),))
    else:
        marks = ",".join("?" * len(ids))
        rows = conn.fetchall(f"SELECT {_EVENT_COLUMNS} FROM events WHERE id IN ({marks}) ORDER BY id", list(ids))
    return [_stored(r) for r in rows]


def page_events(
    conn: Connection, providers: Iterable[str], after_id: int, limit: int
) -> list[StoredEvent]:
    """Events of these providers with id > after_id, oldest first (for replays)."""
    names = list(providers)
    marks = ",".join("?" * len(names))
    rows = conn.fetchall(
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE provider IN ({marks}) AND id > ? ORDER BY id LIMIT ?",
        [*names, after_id, limit],
    )
    return [_stored(r) for r in rows]


def apply_all(conn: Connection, handlers: Registry, events: Sequence[StoredEvent]) -> None:
    """Run every handler on its provider's share of `events` (inside the caller's transaction)."""
    by_provider: dict[str, list[StoredEvent]] = {}
    for ev in events:
        by_provider.setdefault(ev.provider, []).append(ev)
    for provider, batch in by_provider.items():
        for handler in handlers.get(provider, ()):
            handler.apply(conn, batch)
