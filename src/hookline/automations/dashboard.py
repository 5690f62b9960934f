"""The dashboard's Automations and Alerts pages: rules with their 24 h counts, a rule's recent runs
with each step's request and outcome, open alerts with an Acknowledge button."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hookline.automations import alerts, rules, runs
from hookline.automations.spec import NAME
from hookline.store.engine import Connection
from hookline.web.dashboard.forms import FormRefused, checked_form
from hookline.web.dashboard.ui import Dashboard, NavEntry, Page, ui_of
from hookline.web.reads import read
from hookline.web.responses import error


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _rule_rows(conn: Connection) -> list[dict[str, Any]]:
    counts = runs.counts_by_rule(conn, time.time() - 86400)
    out = []
    for r in rules.list_rules(conn):
        c = counts.get(r.name, {})
        out.append({**r.as_json(), "matched": sum(c.values()), "succeeded": c.get("succeeded", 0),
                    "failed": c.get("failed", 0) + c.get("parked", 0),
                    "dry_run": c.get("dry-run", 0)})
    return out


async def rule_list(request: Request) -> Response:
    return ui_of(request).render(request, "automations/rules.html", rules=await read(request, _rule_rows))


def _rule(conn: Connection, name: str) -> tuple[rules.Rule | None, list[dict[str, Any]]]:
    if not NAME.match(name):
        return None, []
    rule = rules.get(conn, name)
    return (None if rule is None else rule.masked()), runs.list_runs(conn, rule=name, limit=50)


async def rule_page(request: Request) -> Response:
    ui = ui_of(request)
    name = request.path_params["name"]
    rule, recent = await read(request, _rule, name)
    if rule is None:
        return ui.render(request, "missing.html", status=404, what=f"rule {name!r}")
    return ui.render(request, "automations/rule.html", rule=rule, runs=recent)


def _alerts(conn: Connection, show_all: bool) -> list[dict[str, Any]]:
    return alerts.list_alerts(conn, open_only=not show_all, limit=200)


async def alert_list(request: Request) -> Response:
    show_all = request.query_params.get("all") == "1"
    return ui_of(request).render(request, "automations/alerts.html", alerts=await read(request, _alerts, show_all),
                                 show_all=show_all)


def _ack(conn: Connection, alert_id: int) -> None:
    with conn.transaction():
        alerts.ack(conn, alert_id)


async def alert_ack(request: Request) -> Response:
    try:
        await checked_form(request)
    except FormRefused as exc:
        return exc.response
    raw = request.path_params["id"]
    if not raw.isdigit() or int(raw) > 2**62:
        return error(400, "invalid_id", "alert id must be a positive integer")
    await read(request, _ack, int(raw))
    return RedirectResponse("/alerts", status_code=303)


PAGES = [
    Page("/automations", rule_list),
    Page("/automations/{name}", rule_page),
    Page("/alerts", alert_list),
    Page("/alerts/{id}/ack", alert_ack, ["POST"]),
]
NAV = [NavEntry("Automations", "/automations", 92), NavEntry("Alerts", "/alerts", 93)]


def register(ui: Dashboard) -> None:
    ui.add_templates(Path(__file__).parent / "templates")
    ui.env.filters.setdefault("pretty", _pretty)
    ui.add_pages(PAGES, NAV)
