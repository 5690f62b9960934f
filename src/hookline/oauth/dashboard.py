"""The Installations page: every account installed through OAuth, whatever its provider, with its
state and when it last sent an event (shown in the nav once there is one)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from hookline.store.engine import Connection
from hookline.store.events import last_received_of
from hookline.store.queries import load_queries
from hookline.web.dashboard.ui import Dashboard, NavEntry, Page, ui_of
from hookline.web.reads import read, runtime_of

if TYPE_CHECKING:
    from hookline.provider import Provider

Q = load_queries(__package__)


def rows(conn: Connection, providers: list[Provider] | tuple[Provider, ...] = ()) -> list[dict[str, Any]]:
    """Every installation with its state: installed, failing (installed, but its token cannot be
    refreshed or is refused now), uninstalled; and its webhooks' state as its provider knows it."""
    keys = ("provider", "account", "installed", "installed_at", "uninstalled_at", "reason")
    found = [dict(zip(keys, r, strict=True)) for r in conn.fetchall(Q.installation_rows)]
    failing = {(str(p), str(a)): (since, why) for p, a, since, why in conn.fetchall(Q.installation_failures)}
    hooks = {p.name: p.webhook_states(conn) for p in providers}
    # One statement for the page, not one per row (a partner has thousands of installations).
    last = last_received_of(conn, [(row["provider"], row["account"]) for row in found])
    for row in found:
        row["last_event_at"] = last.get((row["provider"], row["account"]))
        failure = failing.get((row["provider"], row["account"]))
        row["state"] = "uninstalled" if not row["installed"] else "failing" if failure else "installed"
        row["failing_since"], row["failure"] = failure if failure and row["installed"] else (None, None)
        row["webhooks"] = hooks.get(row["provider"], {}).get(row["account"], "none")
    return found


def _any(conn: Connection) -> bool:
    return conn.scalar(Q.any_installation) is not None


async def installations(request: Request) -> Response:
    found = await read(request, rows, runtime_of(request).providers)
    return ui_of(request).render(request, "oauth/installations.html", installations=found)


PAGES = [Page("/installations", installations)]
NAV = [NavEntry("Installations", "/installations", 85, shown=_any)]


def register(ui: Dashboard) -> None:
    ui.add_templates(Path(__file__).parent / "templates")
    ui.add_pages(PAGES, NAV)
