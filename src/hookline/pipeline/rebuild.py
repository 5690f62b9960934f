"""`hookline rebuild`: empty every handler's tables, then replay the whole log through the handlers.

Safe while ingest and workers run: the tables are emptied first and the replay reads the log until
it has caught up, so every event stored before the end is replayed, and a worker applying an event
at the same time is harmless (handlers are idempotent and order-independent). Readers see the
tables filling up meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hookline.pipeline.handlers import Registry, apply_all, page_events
from hookline.store.engine import Database
from hookline.store.events import count_provider_events

PAGE = 1000


@dataclass
class RebuildResult:
    events: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (event id, error)


def replayable(handlers: Registry) -> Registry:
    """Without the handlers that act on events as they arrive (rules): a replay must not run them again."""
    return {p: [h for h in hs if h.replayable] for p, hs in handlers.items()}


def count_events(db: Database, handlers: Registry) -> int:
    handlers = replayable(handlers)
    names = [p for p, hs in handlers.items() if hs]
    if not names:
        return 0
    with db.connection() as conn:
        return count_provider_events(conn, names)


def rebuild(
    db: Database,
    handlers: Registry,
    *,
    page: int = PAGE,
    progress: Callable[[int], None] | None = None,
) -> RebuildResult:
    handlers = replayable(handlers)
    names = [p for p, hs in handlers.items() if hs]
    result = RebuildResult()
    conn = db.connect()
    try:
        with conn.transaction():
            for p in names:
                for handler in handlers[p]:
                    handler.reset(conn)
        after = 0
        while True:
            events = page_events(conn, names, after, page)
            if not events:
                return result
            try:
                with conn.transaction():
                    apply_all(conn, handlers, events)
            except Exception:
                # Find the culprits; everything else of the page still gets applied.
                for ev in events:
                    try:
                        with conn.transaction():
                            apply_all(conn, handlers, [ev])
                    except Exception as exc:
                        result.failed.append((ev.id, f"{type(exc).__name__}: {exc}"))
            after = events[-1].id
            result.events += len(events)
            if progress is not None:
                progress(len(events))
    finally:
        conn.close()
