"""`hookline dashboard sessions list|revoke-all`: who is signed in to the dashboard, and signing all out."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import typer
from rich.markup import escape
from rich.table import Table

from hookline.clitools import console, open_database, settings

dashboard_app = typer.Typer(help="The dashboard served by `serve`.", no_args_is_help=True)
sessions_app = typer.Typer(help="Signed-in dashboard sessions.", no_args_is_help=True)
dashboard_app.add_typer(sessions_app, name="sessions")


def register(app: typer.Typer) -> None:
    app.add_typer(dashboard_app, name="dashboard")


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@sessions_app.command("list")
def sessions_list(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """Sessions that still sign a browser in (expired and idle ones left out), most recently used first."""
    from hookline.web import session_store

    cfg = settings()
    rows = session_store.list_active(open_database(cfg), time.time(), cfg.dashboard_session_idle_seconds)
    if as_json:
        listed = [
            {"id": r.hint(), "created_at": r.created_at, "last_seen_at": r.last_seen_at,
             "expires_at": r.expires_at, "user_agent": r.user_agent}
            for r in rows
        ]
        print(json.dumps(listed, indent=2, ensure_ascii=False))
        return
    if not rows:
        console.print("no dashboard sessions")
        return
    table = Table("id", "signed in", "last seen", "expires", "user agent")
    for r in rows:
        # The user agent was sent by a browser: shown as text, never as rich markup.
        agent = escape(r.user_agent or "")
        table.add_row(r.hint(), _when(r.created_at), _when(r.last_seen_at), _when(r.expires_at), agent)
    console.print(table)


@sessions_app.command("revoke-all")
def sessions_revoke_all() -> None:
    """Sign every browser out of the dashboard (running servers refuse their cookies within a second or two)."""
    from hookline.web import session_store

    count = session_store.delete_all(open_database())
    console.print(f"signed out {count} dashboard session{'s' if count != 1 else ''}", highlight=False)
