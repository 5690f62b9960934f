"""Automations in the admin API: rules (read), runs (list), alerts (list, acknowledge)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.routing import Route

from hookline.automations import alerts, rules, runs
from hookline.automations.spec import NAME
from hookline.runtime import Runtime
from hookline.store.engine import Connection
from hookline.timeparse import iso
from hookline.web import openapi_parts as p
from hookline.web.paging import MAX_LIMIT, id_page, page_params
from hookline.web.params import BadQuery, bool_param, id_param, int_param, time_param
from hookline.web.reads import read, runtime_of
from hookline.web.responses import JSON, error
from hookline.web.shapes import Count, Iso, Unix, from_row, from_rows, page_shape

if TYPE_CHECKING:
    from hookline.provider import Provider

_RUN_TIMES = ("run_at", "created_at", "updated_at", "finished_at")
_ALERT_TIMES = ("opened_at", "last_at", "acked_at")



def _enum(*values: str) -> Any:
    return msgspec.Meta(extra_json_schema={"enum": list(values)})


_MODE = Annotated[str, _enum("live", "dry-run")]
_RUNS_24H = Annotated[dict[str, Count], msgspec.Meta(description="runs created in the last 24 hours, by state")]


class Rule(msgspec.Struct):
    """A rule as listings show it (credentials masked), with its runs over 24 hours."""

    id: int
    name: str
    enabled: bool
    mode: _MODE
    on: Annotated[list[str], msgspec.Meta(description="event patterns, e.g. aircall:call.created")]
    created_at: Unix
    updated_at: Unix
    spec: Annotated[dict[str, Any], msgspec.Meta(description="the rule as applied from its file (on, if, ...)")]
    runs_24h: _RUNS_24H


class Rules(msgspec.Struct):
    rules: list[Rule]


class Run(msgspec.Struct):
    """One run of a rule for one event."""

    id: int
    rule_id: int
    rule_name: str
    event_id: int
    mode: _MODE
    window_key: str
    state: Annotated[str, _enum(*runs.STATES)]
    attempts: Count
    run_at: Unix
    steps: Annotated[
        list[dict[str, Any]], msgspec.Meta(description="each finished step: action, state, request, status, response")
    ]
    last_error: str | None
    created_at: Unix
    updated_at: Unix
    finished_at: Unix | None
    run_at_iso: Iso
    created_at_iso: Iso
    updated_at_iso: Iso
    finished_at_iso: Iso | None


RunsPage = page_shape("RunsPage", "runs", Run)


class RuleDetail(Rule):
    """One rule, its runs over 24 hours and its 20 most recent runs."""

    recent_runs: list[Run]


class Sample(msgspec.Struct):
    event_id: int
    event: str
    timestamp: Unix
    window_key: str
    steps: list[dict[str, Any]]


class Backtest(msgspec.Struct):
    """A rule over stored events: what it would have done (no side effects)."""

    rule: str
    since: Unix
    until: Unix | None
    events: Count
    matched: Annotated[int, msgspec.Meta(ge=0, description="patterns, hours and if held")]
    would_run: Annotated[int, msgspec.Meta(ge=0, description="matched, and the window fired")]
    samples: list[Sample]


class Alert(msgspec.Struct):
    """An alert a rule opened."""

    id: int
    rule_name: str
    window_key: str
    severity: Annotated[str, _enum("info", "warning", "critical")]
    title: str
    event_id: int | None
    count: Annotated[int, msgspec.Meta(ge=1, description="runs that hit it while it was open")]
    opened_at: Unix
    last_at: Unix
    acked_at: Unix | None
    open: bool
    opened_at_iso: Iso
    last_at_iso: Iso
    acked_at_iso: Iso | None


class Alerts(msgspec.Struct):
    alerts: list[Alert]


def _with_iso(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    for key in keys:
        row[f"{key}_iso"] = iso(row[key])
    return row


def _rules(conn: Connection) -> Rules:
    counts = runs.counts_by_rule(conn, time.time() - 86400)
    return Rules(from_rows(Rule, ({**r.as_json(), "runs_24h": counts.get(r.name, {})} for r in rules.list_rules(conn))))


async def list_rules(request: Request) -> JSON:
    return JSON(await read(request, _rules))


def _rule(conn: Connection, name: str) -> RuleDetail | None:
    if not NAME.match(name):
        return None
    rule = rules.get(conn, name)
    if rule is None:
        return None
    counts = runs.counts_by_rule(conn, time.time() - 86400)
    recent = [_with_iso(r, _RUN_TIMES) for r in runs.list_runs(conn, rule=name, limit=20)]
    return from_row(RuleDetail, {**rule.as_json(), "runs_24h": counts.get(name, {}), "recent_runs": recent})


async def get_rule(request: Request) -> JSON:
    name = request.path_params["name"]
    found = await read(request, _rule, name)
    if found is None:
        return error(404, "not_found", f"no rule named {name!r}")
    return JSON(found)


def _backtest(
    conn: Connection, providers: tuple[Provider, ...], name: str, since: float, until: float | None
) -> dict[str, Any] | None:
    from hookline.automations.actions import registry
    from hookline.automations.backtest import backtest
    from hookline.automations.spec import CompiledRule

    if not NAME.match(name):
        return None
    rule = rules.get(conn, name)
    if rule is None:
        return None
    compiled = CompiledRule.build(rule.id, rule.updated_at, rule.spec)
    return backtest(conn, compiled, {p.name: p for p in providers}, registry(providers), since, until)


async def test_rule(request: Request) -> JSON:
    name = request.path_params["name"]
    try:
        since = time_param(request.query_params, "since")
        until = time_param(request.query_params, "until")
    except BadQuery as exc:
        return error(400, "invalid_query", str(exc))
    if since is None:
        return error(400, "invalid_query", "since is required (ISO 8601 or unix seconds)")
    found = await read(request, _backtest, runtime_of(request).providers, name, since, until)
    if found is None:
        return error(404, "not_found", f"no rule named {name!r}")
    return JSON(from_row(Backtest, found))


async def list_runs(request: Request) -> JSON:
    q = request.query_params
    state = q.get("state") or None
    if state is not None and state not in runs.STATES:
        return error(400, "invalid_query", f"state must be one of: {', '.join(runs.STATES)}")
    try:
        limit, cursor = page_params(q)
    except BadQuery as exc:
        return error(400, "invalid_query", str(exc))
    rule = q.get("rule") or None
    rows, next_cursor = id_page(await read(request, _runs, rule, state, limit + 1, cursor), limit)
    return JSON(RunsPage(from_rows(Run, (_with_iso(r, _RUN_TIMES) for r in rows)), next_cursor))


def _runs(
    conn: Connection, rule: str | None, state: str | None, limit: int, cursor: int | None
) -> list[dict[str, Any]]:
    return runs.list_runs(conn, rule=rule, state=state, limit=limit, before_id=cursor)


def _alerts(conn: Connection, open_only: bool, limit: int) -> list[dict[str, Any]]:
    return alerts.list_alerts(conn, open_only=open_only, limit=limit)


async def list_alerts(request: Request) -> JSON:
    try:
        open_only = bool_param(request.query_params, "open") or False
        limit = int_param(request.query_params, "limit", 100, 1, MAX_LIMIT) or 100
    except BadQuery as exc:
        return error(400, "invalid_query", str(exc))
    found = await read(request, _alerts, open_only, limit)
    return JSON(Alerts(from_rows(Alert, (_with_iso(a, _ALERT_TIMES) for a in found))))


def _ack(conn: Connection, alert_id: int) -> dict[str, Any] | None:
    with conn.transaction():
        return alerts.ack(conn, alert_id)


async def ack_alert(request: Request) -> JSON:
    try:
        alert_id = id_param(request.path_params["id"], "alert")
    except BadQuery as exc:
        return error(400, "invalid_id", str(exc))
    found = await read(request, _ack, alert_id)
    if found is None:
        return error(404, "not_found", f"no alert {alert_id}")
    return JSON(from_row(Alert, _with_iso(found, _ALERT_TIMES)))


ROUTES = [
    Route("/api/rules", list_rules),
    Route("/api/rules/{name}", get_rule),
    Route("/api/rules/{name}/test", test_rule),
    Route("/api/runs", list_runs),
    Route("/api/alerts", list_alerts),
    Route("/api/alerts/{id}/ack", ack_alert, methods=["POST"]),
]


def routes(runtime: Runtime) -> list[Route]:
    return ROUTES


_TIME = {"type": "string", "pattern": r"^([0-9]{1,10}|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?)$"}
_TIME_TEXT = "ISO 8601 date-time or date (UTC unless an offset is given), or unix seconds"


def openapi_paths() -> p.Paths:
    return {
        "/api/rules": {
            "get": p.operation("Rules with their runs over 24 hours", "automations", Rules)
        },
        "/api/rules/{name}": {
            "get": p.operation(
                "One rule, its runs over 24 hours and its 20 most recent runs", "automations",
                RuleDetail,
                (p.path("name", p.STR, "the rule's name"),), errors=(404,),
            )
        },
        "/api/rules/{name}/test": {
            "get": p.operation(
                "Backtest a rule over stored events (no side effects)", "automations",
                Backtest,
                (p.path("name", p.STR, "the rule's name"),
                 {**p.query("since", _TIME, "from this time, on the events' timestamps: " + _TIME_TEXT),
                  "required": True},
                 p.query("until", _TIME, "up to this time (default: everything after since): " + _TIME_TEXT)),
                errors=(400, 404),
            )
        },
        "/api/runs": {
            "get": p.operation(
                "Runs, newest first", "automations", RunsPage,
                (p.query("rule", p.STR, "only this rule's runs"),
                 p.query("state", {"type": "string", "enum": list(runs.STATES)}, "only runs in this state"),
                 p.limit(MAX_LIMIT), p.ID_CURSOR),
                errors=(400,),
            )
        },
        "/api/alerts": {
            "get": p.operation(
                "Alerts opened by rules, newest first", "automations", Alerts,
                (p.query("open", p.BOOL, "only alerts not acknowledged"), p.limit(MAX_LIMIT)),
                errors=(400,),
            )
        },
        "/api/alerts/{id}/ack": {
            "post": p.operation(
                "Acknowledge an alert: the rule's next match opens a new one", "automations", Alert,
                (p.path("id", p.ID, "the alert's id"),), errors=(400, 404),
                description="Idempotent: acknowledging an acknowledged alert returns it unchanged.",
            )
        },
    }
