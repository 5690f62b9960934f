"""What is stored and what retention will do, on the dashboard: the Operations page's "Storage and
retention" block and a line above the event log.

Kept cheap for a large log (measured at 1M events: bench/README.md): sizes and row counts are the
engine's estimates (store.tables.table_size: PostgreSQL's statistics and relation sizes, SQLite's rowid
span and a sample of rows), the oldest rows come from one index seek, and rows to delete are counted
only for the policies that are on, up to COUNT_LIMIT: the same function as `hookline retention show`
(policies.report), which counts them all.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from starlette.requests import Request

from hookline.retention.policies import COUNT_LIMIT, purged_before, report
from hookline.retention.settings import load_retention_settings
from hookline.store import maintenance
from hookline.store.engine import Database
from hookline.store.events import oldest_received
from hookline.web.dashboard.ui import Dashboard, ui_of
from hookline.web.reads import in_thread, runtime_of

if TYPE_CHECKING:
    from hookline.provider import Provider


def storage(db: Database, providers: Iterable[Provider]) -> dict[str, Any]:
    cfg = load_retention_settings()
    with db.connection() as conn:
        sizes = maintenance.storage(conn)
        oldest = oldest_received(conn)
        rows = report(conn, cfg, providers, time.time(), COUNT_LIMIT)
        purged = purged_before(conn)
    return {"size": sizes.size, "free": sizes.free, "events_size": sizes.events_size, "oldest": oldest,
            "policies": rows, "purged": purged, "limit": COUNT_LIMIT}


def events_summary(db: Database, providers: Iterable[Provider]) -> dict[str, Any]:
    """The events policy's row of the report, and up to when retention deleted events."""
    cfg = load_retention_settings()
    with db.connection() as conn:
        (events,) = report(conn, cfg, providers, time.time(), COUNT_LIMIT, only="events")
        purged = purged_before(conn)
    return {**events, "purged": purged, "limit": COUNT_LIMIT}


async def section(request: Request) -> Markup:
    runtime = runtime_of(request)
    data = await in_thread(storage, runtime.db, runtime.providers)
    return ui_of(request).fragment("retention/_operations.html", **data)


async def event_log_note(request: Request) -> Markup:
    runtime = runtime_of(request)
    data = await in_thread(events_summary, runtime.db, runtime.providers)
    return ui_of(request).fragment("retention/_event_log.html", **data)


def register(ui: Dashboard) -> None:
    ui.add_templates(Path(__file__).parent / "templates")
    ui.add_section("Storage and retention", section)
    ui.add_event_log_note(event_log_note)
