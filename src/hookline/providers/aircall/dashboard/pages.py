"""Aircall's dashboard pages: live calls, agents, call history and a call's page, analytics (with a CSV
per chart), and its operations section. Registered through AircallProvider.register_dashboard."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from hookline.providers.aircall.dashboard import analytics, boards
from hookline.providers.aircall.dashboard.operations import account_states
from hookline.providers.aircall.projections_api import CALLS, _call_filters, call_record, composed, is_missed
from hookline.providers.aircall.shapes import Call
from hookline.store.engine import Connection
from hookline.web.dashboard.ui import SECURITY_HEADERS, Dashboard, NavEntry, Page, next_page, ui_of
from hookline.web.params import BadQuery, int_param
from hookline.web.reads import in_thread, read, runtime_of
from hookline.web.responses import error

TEMPLATES = Path(__file__).parent / "templates"
PAGE = 50
PROVIDER = "aircall"


def _boards_now(conn: Connection, account: str | None) -> tuple[list[dict[str, Any]], list[boards.Agent], float]:
    now = time.time()
    calls = boards.live_calls(conn, account, now)
    return calls, boards.agents(conn, calls, account), now


async def _boards(request: Request) -> tuple[list[dict[str, Any]], list[boards.Agent], float]:
    return await read(request, _boards_now, request.query_params.get("account") or None)


def _fragment(request: Request, template: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(ui_of(request).fragment(template, **context), headers=SECURITY_HEADERS)


async def live(request: Request) -> Response:
    calls, agents, now = await _boards(request)
    return ui_of(request).render(request, "aircall/live.html", calls=calls, agents=agents, now=now,
                                 labels=boards.STATE_LABELS)


async def live_board(request: Request) -> Response:
    calls, _, now = await _boards(request)
    return _fragment(request, "aircall/_live_calls.html", calls=calls, now=now, labels=boards.STATE_LABELS)


async def agents_page(request: Request) -> Response:
    _, agents, now = await _boards(request)
    return ui_of(request).render(request, "aircall/agents.html", agents=agents, now=now)


async def agents_board(request: Request) -> Response:
    _, agents, now = await _boards(request)
    return _fragment(request, "aircall/_agents.html", agents=agents, now=now)


def _calls(
    conn: Connection, where: str, params: list[Any]
) -> tuple[list[dict[str, Any]], list[boards.AgentName]]:
    tail = (f" WHERE {where}" if where else "") + " ORDER BY id DESC LIMIT ?"
    rows = composed(conn, CALLS, tail, [*params, PAGE + 1], Call)
    return rows, boards.agent_names(conn)


async def calls_page(request: Request) -> Response:
    ui = ui_of(request)
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
    rows, agents = await read(request, _calls, where, params)
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
    ui = ui_of(request)
    raw = request.path_params["id"]
    if not raw.isdigit() or int(raw) > 2**62:
        return ui.render(request, "missing.html", status=400, what=f"call {raw!r}")
    account = request.query_params.get("account") or None
    call = await read(request, call_record, int(raw), account)
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
    ui = ui_of(request)
    q = request.query_params
    try:
        p = analytics.period(q.get("from"), q.get("to"))
    except analytics.BadPeriod as exc:
        return ui.render(request, "aircall/analytics.html", status=400, report=None, problem=str(exc), q=q)
    rep = await read(request, analytics.report, p, q.get("account") or None)
    span = urlencode({"from": p.first.isoformat(), "to": p.last.isoformat()})
    return ui.render(request, "aircall/analytics.html", report=rep, problem=None, q=q, span=span)


async def analytics_csv(request: Request) -> Response:
    q = request.query_params
    try:
        p = analytics.period(q.get("from"), q.get("to"))
    except analytics.BadPeriod as exc:
        return error(400, "invalid_query", str(exc))
    chart = (await read(request, analytics.report, p, q.get("account") or None)).chart(request.path_params["name"])
    if chart is None:
        return error(404, "not_found", f"no chart {request.path_params['name']!r}")
    filename = f"{chart.name}_{p.first.isoformat()}_{p.last.isoformat()}.csv"
    return Response(chart.csv(), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


async def operations_section(request: Request) -> Markup:
    states = await in_thread(account_states, runtime_of(request).db)
    return ui_of(request).fragment("aircall/_operations.html", accounts=states)


PAGES = [
    Page("/aircall/live", live),
    Page("/aircall/live/board", live_board, fragment=True),
    Page("/aircall/agents", agents_page),
    Page("/aircall/agents/board", agents_board, fragment=True),
    Page("/aircall/calls", calls_page),
    Page("/aircall/calls/{id}", call_page),
    Page("/aircall/analytics", analytics_page),
    Page("/aircall/analytics/{name}.csv", analytics_csv, fragment=True),
]
NAV = [
    NavEntry("Live", "/aircall/live", 10),
    NavEntry("Agents", "/aircall/agents", 20),
    NavEntry("Calls", "/aircall/calls", 30),
    NavEntry("Analytics", "/aircall/analytics", 40),
]


def register(ui: Dashboard) -> None:
    ui.add_templates(TEMPLATES)
    ui.add_pages(PAGES, NAV)
    ui.add_section("Aircall accounts", operations_section)
    ui.set_home("/aircall/live")


def _latest(intel: dict[str, list[dict[str, Any]]], kind: str) -> dict[str, Any] | None:
    results = intel.get(kind) or []
    return results[-1]["data"] if results else None
