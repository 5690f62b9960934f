"""The dashboard's Automations and Alerts pages: rules with their 24 h counts, a rule's recent runs
with each step's request and outcome, open alerts with an Acknowledge button."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hookline.automations import alerts, rules, runs
from hookline.automations.spec import NAME

if TYPE_CHECKING:
    from hookline.web.dashboard.ui import Dashboard


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def register(ui: Dashboard) -> None:
    from hookline.web.dashboard.forms import FormRefused, checked_form
    from hookline.web.responses import error

    db = ui.runtime.db
    ui.add_templates(Path(__file__).parent / "templates")
    ui.env.filters.setdefault("pretty", _pretty)

    async def rule_list(request: Request) -> Response:
        def query() -> list[dict[str, Any]]:
            with db.connection() as conn:
                counts = runs.counts_by_rule(conn, time.time() - 86400)
                out = []
                for r in rules.list_rules(conn):
                    c = counts.get(r.name, {})
                    out.append({**r.as_json(), "matched": sum(c.values()), "succeeded": c.get("succeeded", 0),
                                "failed": c.get("failed", 0) + c.get("parked", 0),
                                "dry_run": c.get("dry-run", 0)})
                return out

        return ui.render(request, "automations/rules.html", rules=await run_in_threadpool(query))

    async def rule_page(request: Request) -> Response:
        name = request.path_params["name"]

        def query() -> tuple[rules.Rule | None, list[dict[str, Any]]]:
            if not NAME.match(name):
                return None, []
            with db.connection() as conn:
                rule = rules.get(conn, name)
                return (None if rule is None else rule.masked()), runs.list_runs(conn, rule=name, limit=50)

        rule, recent = await run_in_threadpool(query)
        if rule is None:
            return ui.render(request, "missing.html", status=404, what=f"rule {name!r}")
        return ui.render(request, "automations/rule.html", rule=rule, runs=recent)

    async def alert_list(request: Request) -> Response:
        show_all = request.query_params.get("all") == "1"

        def query() -> list[dict[str, Any]]:
            with db.connection() as conn:
                return alerts.list_alerts(conn, open_only=not show_all, limit=200)

        return ui.render(request, "automations/alerts.html", alerts=await run_in_threadpool(query),
                         show_all=show_all)

    async def alert_ack(request: Request) -> Response:
        try:
            await checked_form(request)
        except FormRefused as exc:
            return exc.response
        raw = request.path_params["id"]
        if not raw.isdigit() or int(raw) > 2**62:
            return error(400, "invalid_id", "alert id must be a positive integer")

        def do() -> None:
            with db.connection() as conn, conn.transaction():
                alerts.ack(conn, int(raw))

        await run_in_threadpool(do)
        return RedirectResponse("/alerts", status_code=303)

    ui.page("/automations", rule_list)
    ui.page("/automations/{name}", rule_page)
    ui.page("/alerts", alert_list)
    ui.page("/alerts/{id}/ack", alert_ack, ["POST"])
    ui.add_nav("Automations", "/automations", 92)
    ui.add_nav("Alerts", "/alerts", 93)
