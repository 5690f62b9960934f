"""The Operations page's "Storage and retention" block: what is stored, and what retention will do.

Kept cheap for a large log: sizes come from the engine's own accounting (SQLite pages, PostgreSQL
relation sizes), the oldest event from the `received_at` index, and rows to delete are counted only
for the policies that are on.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from starlette.requests import Request

from hookline.retention.policies import cutoff, policies, purged_before, would_delete
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
    now = time.time()
    with db.connection() as conn:
        sizes = maintenance.storage(conn)
        size, free, events_size = sizes.size, sizes.free, sizes.events_size
        oldest = oldest_received(conn)
        rows = []
        for policy in policies(providers):
            days = float(getattr(cfg, policy.setting))
            before = cutoff(cfg, policy, now)
            found = would_delete(conn, policy, before) if before is not None else None
            rows.append({"name": policy.name, "days": days, "before": before, "found": found})
        purged = purged_before(conn)
    return {"size": size, "free": free, "events_size": events_size, "oldest": oldest, "policies": rows,
            "purged": purged, "dialect": db.dialect}


async def section(request: Request) -> Markup:
    runtime = runtime_of(request)
    data = await in_thread(storage, runtime.db, runtime.providers)
    return ui_of(request).fragment("retention/_operations.html", **data)


def register(ui: Dashboard) -> None:
    ui.add_templates(Path(__file__).parent / "templates")
    ui.add_section("Storage and retention", section)
