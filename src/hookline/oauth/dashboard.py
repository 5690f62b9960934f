"""The Installations page: every account installed through OAuth, whatever its provider, with its
state and when it last sent an event (shown in the nav once there is one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hookline.store.engine import Connection
from hookline.store.events import last_received
from hookline.web.dashboard.ui import Dashboard, NavEntry, Page, ui_of
from hookline.web.reads import read

_ROWS = (
    "SELECT provider, account, installed, installed_at, uninstalled_at, uninstall_reason"
    " FROM oauth_installations ORDER BY provider, account"
)


def rows(conn: Connection) -> list[dict[str, Any]]:
    keys = ("provider", "account", "installed", "installed_at", "uninstalled_at", "reason")
    found = [dict(zip(keys, r, strict=True)) for r in conn.fetchall(_ROWS)]
    for row in found:
        row["last_event_at"] = last_received(conn, row["provider"], row["account"])
    return found


def _any(conn: Connection) -> bool:
    return conn.scalar("SELECT 1 FROM oauth_installations LIMIT 1") is not None


async def installations(request: Request) -> Response:
    return ui_of(request).render(request, "oauth/installations.html", installations=await read(request, rows))


PAGES = [Page("/installations", installations)]
NAV = [NavEntry("Installations", "/installations", 85, shown=_any)]


def register(ui: Dashboard) -> None:
    ui.add_templates(Path(__file__).parent / "templates")
    ui.add_pages(PAGES, NAV)
