"""Aircall's dashboard pages: live calls, agents, call history and a call's page, analytics (with a CSV
per chart), and its operations section. Registered through AircallProvider.register_dashboard."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from hookline.providers.aircall.dashboard import analytics, boards
from hookline.providers.aircall.dashboard.operations import account_states
from hookline.providers.aircall.projections_api import _CALL_COLUMNS, _call_filters, call_record, is_missed, query
from hookline.web.dashboard.ui import SECURITY_HEADERS, Dashboard, next_page
from hookline.web.params import BadQuery, int_param

TEMPLATES = Path(__file__).parent / "templates"
PAGE = 50
PROVIDER = "aircall"


def register(ui: Dashboard) -> None:  # noqa: C901
    db = ui.runtime.db
    ui.add_templates(TEMPLATES)

    def boards_now(account: str | None) -> tuple[list[dict[str, Any]], list[boards.Agent], float]:
        now = time.time()
        with db.connection() as conn:
            calls = boards.live_calls(conn, account, now)
            agents = boards.agents(conn, calls, account)
        return calls, agents, now

    def fragment(template: str, **context: Any) -> HTMLResponse:
        return HTMLResponse(ui.fragment(template, **context), headers=SECURITY_HEADERS)

    async def live(request: Request) -> Response:
        calls, agents, now = await run_in_threadpool(boards_now, request.query_params.get("account") or None)
        return ui.render(request, "aircall/live.html", calls=calls, agents=agents, now=now, labels=boards.STATE_LABELS)

    async def live_board(request: Request) -> Response:
        calls, _, now = await run_in_threadpool(boards_now, request.query_params.get("account") or None)
        return fragment("aircall/_live_calls.html", calls=calls, now=now, labels=boards.STATE_LABELS)

    async def agents_page(request: Request) -> Response:
        _, agents, now = await run_in_threadpool(boards_now, request.query_params.get("account") or None)
        return ui.render(request, "aircall/agents.html", agents=agents, now=now)

    async def agents_board(request: Request) -> Response:
        _, agents, now = await run_in_threadpool(boards_now, request.query_params.get("account") or None)
        return fragment("aircall/_agents.html", agents=agents, now=now)

    async def calls_page(request: Request) -> Response:
        q = request.query_params
        # The filter form sends every field; empty ones mean "any".
        wanted = {k: v for k, v in q.items() if v != ""}
        if wanted.get("missed") == "any":
            wanted.pop("missed")
        try:
            conds = _call_filters(wanted)
            cursor = int_param(wanted, "cursor", None, 1, 2**62)
        except BadQuery as exc:
            return ui.render(request, "aircall/calls.html", status=400, calls=[], more=None, problem=str(exc), q=q,
                             agents=[])
        if cursor is not None:
            conds.append(("id < ?", cursor))
        where = " AND ".join(c for c, _ in conds)
        params = [v for c, v in conds if "?" in c]

        def run() -> tuple[list[dict[str, Any]], list[boards.AgentName]]:
            with db.connection() as conn:
                rows = query(
                    conn,
                    f"SELECT {_CALL_COLUMNS} FROM aircall_calls" + (f" WHERE {where}" if where else "")
                    + " ORDER BY id DESC LIMIT ?",
                    [*params, PAGE + 1],
                )
                return rows, boards.agent_names(conn)

        rows, agents = await run_in_threadpool(run)
        more = None
        if len(rows) > PAGE:
            rows = rows[:PAGE]
            more = next_page(q, rows[-1]["id"])
        for r in rows:
            r["agent"] = boards.person(r["user"])
            r["contact_name"] = boards.person(r["contact"])
            r["missed"] = is_missed(r)
        return ui.render(request, "aircall/calls.html", calls=rows, more=more, problem=None, q=q, agents=agents)

    async def call_page(request: Request) -> Response:
        raw = request.path_params["id"]
        if not raw.isdigit() or int(raw) > 2**62:
            return ui.render(request, "missing.html", status=400, what=f"call {raw!r}")
        account = request.query_params.get("account") or None

        def run() -> dict[str, Any] | str | None:
            with db.connection() as conn:
                return call_record(conn, int(raw), account)

        call = await run_in_threadpool(run)
        if call == "ambiguous":
            return ui.render(request, "missing.html", status=409,
                             what=f"single call {raw}: it exists in several accounts, add ?account=")
        if not isinstance(call, dict):
            return ui.render(request, "missing.html", status=404, what=f"call {raw}")
        intel = call["intelligence"]
        api = f"/api/calls/{raw}" + (f"?{urlencode({'account': call['account']})}" if call.get("account") else "")
        return ui.render(
            request, "aircall/call.html", call=call, agent=boards.person(call.get("user")),
            contact=boards.person(call.get("contact")), transcript=_latest(intel, "transcription"),
            summary=_latest(intel, "summary"), sentiment=_latest(intel, "sentiment"),
            topics=_latest(intel, "topics"), api=api,
        )

    async def analytics_page(request: Request) -> Response:
        q = request.query_params
        try:
            p = analytics.period(q.get("from"), q.get("to"))
        except analytics.BadPeriod as exc:
            return ui.render(request, "aircall/analytics.html", status=400, report=None, problem=str(exc), q=q)

        def run() -> analytics.Report:
            with db.connection() as conn:
                return analytics.report(conn, p, q.get("account") or None)

        rep = await run_in_threadpool(run)
        span = urlencode({"from": p.first.isoformat(), "to": p.last.isoformat()})
        return ui.render(request, "aircall/analytics.html", report=rep, problem=None, q=q, span=span)

    async def analytics_csv(request: Request) -> Response:
        q = request.query_params
        try:
            p = analytics.period(q.get("from"), q.get("to"))
        except analytics.BadPeriod as exc:
            from hookline.web.responses import error

            return error(400, "invalid_query", str(exc))

        def run() -> analytics.Report:
            with db.connection() as conn:
                return analytics.report(conn, p, q.get("account") or None)

        chart = (await run_in_threadpool(run)).chart(request.path_params["name"])
        if chart is None:
            from hookline.web.responses import error

            return error(404, "not_found", f"no chart {request.path_params['name']!r}")
        filename = f"{chart.name}_{p.first.isoformat()}_{p.last.isoformat()}.csv"
        return Response(chart.csv(), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{filename}"'})

    async def operations_section(request: Request) -> Markup:
        states = await run_in_threadpool(account_states, db)
        return ui.fragment("aircall/_operations.html", accounts=states)

    ui.page("/aircall/live", live)
    ui.page("/aircall/live/board", live_board, fragment=True)
    ui.page("/aircall/agents", agents_page)
    ui.page("/aircall/agents/board", agents_board, fragment=True)
    ui.page("/aircall/calls", calls_page)
    ui.page("/aircall/calls/{id}", call_page)
    ui.page("/aircall/analytics", analytics_page)
    ui.page("/aircall/analytics/{name}.csv", analytics_csv, fragment=True)
    ui.add_nav("Live", "/aircall/live", 10)
    ui.add_nav("Agents", "/aircall/agents", 20)
    ui.add_nav("Calls", "/aircall/calls", 30)
    ui.add_nav("Analytics", "/aircall/analytics", 40)
    ui.add_section("Aircall accounts", operations_section)
    ui.set_home("/aircall/live")


def _latest(intel: dict[str, list[dict[str, Any]]], kind: str) -> dict[str, Any] | None:
    results = intel.get(kind) or []
    return results[-1]["data"] if results else None
