"""What workers run: event handlers, registered per provider through `Provider.handlers()`.

A handler gets a batch of stored events of its provider and writes its effects through the given
connection, inside the worker's transaction (which also deletes the jobs). Handlers must be
idempotent and order-independent: a batch may be replayed after a crash, events arrive in any order,
and `hookline rebuild` replays the whole log.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hookline.store.engine import Connection

# The log's reads live in store/events.py; handlers and the worker know them by these names.
from hookline.store.events import StoredEvent as StoredEvent
from hookline.store.events import load_events as load_events
from hookline.store.events import page_events as page_events
from hookline.store.queries import compose, load_queries

Q = load_queries(__package__)

if TYPE_CHECKING:
    from hookline.runtime import Runtime


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
            conn.execute(compose(Q.delete_all_fragment, table))


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


def apply_all(conn: Connection, handlers: Registry, events: Sequence[StoredEvent]) -> None:
    """Run every handler on its provider's share of `events` (inside the caller's transaction)."""
    by_provider: dict[str, list[StoredEvent]] = {}
    for ev in events:
        by_provider.setdefault(ev.provider, []).append(ev)
    for provider, batch in by_provider.items():
        for handler in handlers.get(provider, ()):
            handler.apply(conn, batch)
