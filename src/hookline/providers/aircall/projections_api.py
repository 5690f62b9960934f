"""The projections as JSON: /api/calls, /api/calls/{id}, /api/agents, /api/contacts, /api/numbers,
/api/teams, /api/tags, /api/messages. Newest first, with cursor pagination like /api/events."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from hookline.providers.aircall import nested, recordings, shapes
from hookline.providers.aircall.recordings_api import archive_fields
from hookline.runtime import Runtime
from hookline.store.engine import Connection
from hookline.store.queries import Query, compose, load_queries
from hookline.web.paging import MAX_LIMIT, id_page, page_params
from hookline.web.params import (
    MAX_ID,
    BadQuery,
    bool_param,
    choice_param,
    id_param,
    int_param,
    str_param,
    time_param,
)
from hookline.web.reads import read
from hookline.web.responses import JSON, error
from hookline.web.shapes import as_dict, from_row, from_rows

Q = load_queries(__package__)
Row = dict[str, Any]


def raw_rows(cur: Any) -> list[Row]:
    """Every column of every row, as the engine gave it; a call's row (its part_* columns) with its data
    made whole and its nested objects in place of `nested` (nested.expand_row), before any Struct reads it."""
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    return [nested.expand_row(r) for r in rows] if nested.PART_COLUMNS[0] in names else rows


def query(conn: Connection, sql: str | Query, params: Sequence[Any], shape: type[msgspec.Struct]) -> list[Row]:
    """Rows as dicts read through `shape` (its JSON columns decoded, its booleans as booleans), for pages."""
    return [as_dict(shape, r) for r in raw_rows(conn.execute(sql, params))]


def composed_rows(conn: Connection, select: Query, tail: str, params: Sequence[Any]) -> list[Row]:
    """A `*_fragment` SELECT with the filters, order and limit a request asked for (raw rows)."""
    return raw_rows(conn.execute(compose(select, tail, sep=""), params))


def composed(
    conn: Connection, select: Query, tail: str, params: Sequence[Any], shape: type[msgspec.Struct]
) -> list[Row]:
    """`composed_rows` as dicts read through `shape`, for pages."""
    return [as_dict(shape, r) for r in composed_rows(conn, select, tail, params)]


@dataclass(frozen=True)
class Listing:
    """One list endpoint: a table, its columns, and the filters it understands."""

    path: str
    key: str  # the response's list name
    select: Query  # SELECT <columns> FROM <table> [alias], a *_fragment of queries.sql
    item: type[msgspec.Struct]  # a row's shape
    page: type[msgspec.Struct]  # {key: [item...], next_cursor}
    filters: Callable[[Mapping[str, str]], list[tuple[str, Any]]]
    deletable: bool = True
    alias: str = ""  # "u." when the fragment names its table "u"

    async def endpoint(self, request: Request) -> JSON:
        """GET <path>: newest first, `limit` rows after `cursor`, with the table's filters."""
        alias = self.alias
        q = request.query_params
        try:
            limit, cursor = page_params(q)
            conds = self.filters(q)
            if self.deletable and not bool_param(q, "include_deleted"):
                conds.append((f"{alias}deleted = ?", False))
        except BadQuery as exc:
            return error(400, "invalid_query", str(exc))
        if cursor is not None:
            conds.append((f"{alias}id < ?", cursor))
        where = " AND ".join(c for c, _ in conds)
        params = [v for c, v in conds if "?" in c]
        tail = (f" WHERE {where}" if where else "") + f" ORDER BY {alias}id DESC LIMIT ?"
        rows, next_cursor = id_page(await read(request, composed_rows, self.select, tail, [*params, limit + 1]), limit)
        return JSON(self.page(from_rows(self.item, rows), next_cursor))


# A missed call: Aircall gave a reason, or an inbound call ended without anyone answering.
MISSED = "(missed_call_reason IS NOT NULL OR (status = 'done' AND answered_at IS NULL AND direction = 'inbound'))"


def is_missed(call: Mapping[str, Any]) -> bool:
    """MISSED, for a row already read."""
    return call.get("missed_call_reason") is not None or (
        call.get("status") == "done" and call.get("answered_at") is None and call.get("direction") == "inbound"
    )


def _account(q: Mapping[str, str]) -> list[tuple[str, Any]]:
    account = str_param(q, "account")
    return [("account = ?", account)] if account else []


def _call_filters(q: Mapping[str, str]) -> list[tuple[str, Any]]:
    out = _account(q)
    for name, column in (("status", "status"), ("direction", "direction")):
        value = str_param(q, name)
        if value is not None:
            out.append((f"{column} = ?", value))
    for name, column in (("user", "user_id"), ("number", "number_id"), ("contact", "contact_id")):
        wanted = int_param(q, name, None, 0, MAX_ID)
        if wanted is not None:
            out.append((f"{column} = ?", wanted))
    missed = bool_param(q, "missed")
    if missed is not None:
        out.append((MISSED if missed else f"NOT {MISSED}", None))
    since = time_param(q, "since")
    if since is not None:
        out.append(("started_at >= ?", since))
    return out


def _message_filters(q: Mapping[str, str]) -> list[tuple[str, Any]]:
    out = _account(q)
    direction = choice_param(q, "direction", ("inbound", "outbound"))
    if direction:
        out.append(("direction = ?", direction))
    for name in ("status", "channel"):
        value = str_param(q, name)
        if value is not None:
            out.append((f"{name} = ?", value))
    number = int_param(q, "number", None, 0, MAX_ID)
    if number is not None:
        out.append(("number_id = ?", number))
    since = time_param(q, "since")
    if since is not None:
        out.append(("created_at >= ?", since))
    return out


CALLS = Q.projections_api_calls_fragment  # the Calls page filters the same rows
LISTINGS = (
    Listing("/api/calls", "calls", CALLS, shapes.Call, shapes.CallsPage, _call_filters, deletable=False),
    Listing("/api/agents", "agents", Q.projections_api_agents_fragment, shapes.Agent, shapes.AgentsPage, _account,
            alias="u."),
    Listing("/api/contacts", "contacts", Q.projections_api_contacts_fragment, shapes.Contact, shapes.ContactsPage,
            _account),
    Listing("/api/numbers", "numbers", Q.projections_api_numbers_fragment, shapes.Number, shapes.NumbersPage,
            _account),
    Listing("/api/teams", "teams", Q.projections_api_teams_fragment, shapes.Team, shapes.TeamsPage, _account),
    Listing("/api/tags", "tags", Q.projections_api_tags_fragment, shapes.Tag, shapes.TagsPage, _account,
            deletable=False),
)  # fmt: skip


def call_record(conn: Connection, call_id: int, account: str | None) -> dict[str, Any] | str | None:
    """A call with its timeline and intelligence results; "ambiguous" when several accounts have it."""
    account = account or None
    found = query(conn, Q.projections_api_call, (call_id, account, account), shapes.CallDetail)
    if len(found) > 1:
        return "ambiguous"
    call: dict[str, Any] = found[0] if found else {"account": account, "id": call_id}
    acct = call["account"] or None
    timeline = query(conn, Q.projections_api_call_timeline, (call_id, acct, acct), shapes.TimelineEntry)
    results = query(conn, Q.projections_api_call_intelligence, (call_id, acct, acct), shapes.AIResult)
    if not found and not timeline and not results:
        return None
    intelligence: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        intelligence.setdefault(r.pop("kind"), []).append(r)
    call["known"] = bool(found)  # False: results or events arrived, the call itself not yet
    call.update(archive_fields(recordings.for_call(conn, acct, call_id) if acct else {}))
    call["timeline"] = timeline
    call["intelligence"] = intelligence
    return call


async def messages(request: Request) -> JSON:
    # Message ids are strings: newest first by (created_at, id), cursor "created_at:id".
    q = request.query_params
    try:
        limit = int_param(q, "limit", 100, 1, MAX_LIMIT) or 100
        conds = _message_filters(q)
        raw_cursor = str_param(q, "cursor")
        if raw_cursor is not None:
            at, sep, last_id = raw_cursor.partition(":")
            try:
                at_value = float(at)
            except ValueError:
                sep = ""
            if not sep or not last_id:
                raise BadQuery("cursor must be a next_cursor value from a previous page")
            conds.append(("(COALESCE(created_at, 0) < ? OR (COALESCE(created_at, 0) = ? AND id < ?))", None))
            cursor_params: list[Any] = [at_value, at_value, last_id]
        else:
            cursor_params = []
    except BadQuery as exc:
        return error(400, "invalid_query", str(exc))
    where = " AND ".join(c for c, _ in conds)
    params = [v for c, v in conds if "?" in c and v is not None] + cursor_params
    tail = (f" WHERE {where}" if where else "") + " ORDER BY COALESCE(created_at, 0) DESC, id DESC LIMIT ?"
    rows = await read(request, composed_rows, Q.projections_api_messages_fragment, tail, [*params, limit + 1])
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = f"{last['created_at'] or 0}:{last['id']}" if last else None
    return JSON(shapes.MessagesPage(from_rows(shapes.Message, rows[:limit]), next_cursor))


async def call_detail(request: Request) -> JSON:
    try:
        call_id = id_param(request.path_params["id"], "call")
    except BadQuery as exc:
        return error(400, "invalid_id", str(exc))
    found = await read(request, call_record, call_id, request.query_params.get("account") or None)
    if isinstance(found, str):
        return error(409, "ambiguous", f"call {call_id} exists in several accounts: add ?account=")
    if found is None:
        return error(404, "not_found", f"no call {call_id}")
    return JSON(from_row(shapes.CallDetail, found))


ROUTES: list[BaseRoute] = [
    *(Route(spec.path, spec.endpoint) for spec in LISTINGS),
    Route("/api/calls/{id}", call_detail),
    Route("/api/messages", messages),
]


def routes(runtime: Runtime) -> list[BaseRoute]:
    return ROUTES
