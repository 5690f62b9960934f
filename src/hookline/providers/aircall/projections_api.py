"""The projections as JSON: /api/calls, /api/calls/{id}, /api/agents, /api/contacts, /api/numbers,
/api/teams, /api/tags, /api/messages. Newest first, with cursor pagination like /api/events."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from hookline.providers.aircall import recordings
from hookline.providers.aircall.nested import PARTS, nested, whole
from hookline.providers.aircall.recordings_api import archive_fields
from hookline.runtime import Runtime
from hookline.store.engine import Connection
from hookline.store.queries import Query, load_queries
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

Q = load_queries(__package__)
MAX_LIMIT = 500
_JSON = {
    "user", "number", "contact", "assigned_to", "teams", "tags", "comments", "transferred_by", "transferred_to",
    "participants", "data", "phone_numbers", "emails", "users", "media_details",
}
_BOOL = {
    "archived", "has_recording", "has_voicemail", "available", "deleted", "connected", "in_wrap_up", "is_shared",
    "open", "is_ivr", "live_recording_activated",
}
_HIDDEN = {"v_ts", "v_rank", "v_key", "connected_ts", "connected_rank", "connected_key", "wrap_up_ts",
           "wrap_up_rank", "wrap_up_key", "seen_rank", "seen_key", "seen_name", "seen_email"}


def _value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _JSON and isinstance(value, str):
        return json.loads(value)  # SQLite keeps JSON as text; PostgreSQL's jsonb arrives decoded
    if name in _BOOL:
        return bool(value)
    return value


def rows_as_dicts(cur: Any) -> list[dict[str, Any]]:
    """Rows as the API shows them. A call's row (part_user, part_number, part_contact: nested.py) has
    its data made whole, and a column named `nested` becomes the call's nested objects, in its place."""
    names = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        raw = dict(zip(names, row, strict=True))
        full: Any = None
        if "part_user" in raw:
            parts = {name: raw.pop(f"part_{name}") for name in PARTS}
            full = whole(raw["nested"] if "nested" in raw else raw["data"], parts)
        item: dict[str, Any] = {}
        for n, v in raw.items():
            if n == "nested":
                item.update(nested(full))
            elif n == "data" and full is not None:
                item[n] = full
            elif n not in _HIDDEN:
                item[n] = _value(n, v)
        out.append(item)
    return out


def query(conn: Connection, sql: str | Query, params: Sequence[Any]) -> list[dict[str, Any]]:
    return rows_as_dicts(conn.execute(sql, params))


def composed(conn: Connection, select: Query, tail: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    """A `*_fragment` SELECT with the filters, order and limit a request asked for."""
    return query(conn, select.text(conn.dialect) + tail, params)


@dataclass(frozen=True)
class Listing:
    """One list endpoint: a table, its columns, and the filters it understands."""

    path: str
    key: str  # the response's list name
    select: Query  # SELECT <columns> FROM <table> [alias], a *_fragment of queries.sql
    filters: Callable[[Mapping[str, str]], list[tuple[str, Any]]]
    deletable: bool = True
    alias: str = ""  # "u." when the fragment names its table "u"

    async def endpoint(self, request: Request) -> JSON:
        """GET <path>: newest first, `limit` rows after `cursor`, with the table's filters."""
        alias = self.alias
        q = request.query_params
        try:
            limit = int_param(q, "limit", 100, 1, MAX_LIMIT) or 100
            cursor = int_param(q, "cursor", None, 1, MAX_ID)
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
        rows = await read(request, composed, self.select, tail, [*params, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        return JSON({self.key: rows, "next_cursor": str(rows[-1]["id"]) if more else None})


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
    Listing("/api/calls", "calls", CALLS, _call_filters, deletable=False),
    Listing("/api/agents", "agents", Q.projections_api_agents_fragment, _account, alias="u."),
    Listing("/api/contacts", "contacts", Q.projections_api_contacts_fragment, _account),
    Listing("/api/numbers", "numbers", Q.projections_api_numbers_fragment, _account),
    Listing("/api/teams", "teams", Q.projections_api_teams_fragment, _account),
    Listing("/api/tags", "tags", Q.projections_api_tags_fragment, _account, deletable=False),
)


def call_record(conn: Connection, call_id: int, account: str | None) -> dict[str, Any] | str | None:
    """A call with its timeline and intelligence results; "ambiguous" when several accounts have it."""
    account = account or None
    found = query(conn, Q.projections_api_call, (call_id, account, account))
    if len(found) > 1:
        return "ambiguous"
    call: dict[str, Any] = found[0] if found else {"account": account, "id": call_id}
    acct = call["account"] or None
    timeline = query(conn, Q.projections_api_call_timeline, (call_id, acct, acct))
    results = query(conn, Q.projections_api_call_intelligence, (call_id, acct, acct))
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
    rows = await read(request, composed, Q.projections_api_messages_fragment, tail, [*params, limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    next_cursor = f"{last['created_at'] or 0}:{last['id']}" if more and last else None
    return JSON({"messages": rows, "next_cursor": next_cursor})


async def call_detail(request: Request) -> JSON:
    try:
        call_id = id_param(request.path_params["id"], "call")
    except BadQuery as exc:
        return error(400, "invalid_id", str(exc))
    found = await read(request, call_record, call_id, request.query_params.get("account") or None)
    if found == "ambiguous":
        return error(409, "ambiguous", f"call {call_id} exists in several accounts: add ?account=")
    if found is None:
        return error(404, "not_found", f"no call {call_id}")
    return JSON(found)


ROUTES: list[BaseRoute] = [
    *(Route(spec.path, spec.endpoint) for spec in LISTINGS),
    Route("/api/calls/{id}", call_detail),
    Route("/api/messages", messages),
]


def routes(runtime: Runtime) -> list[BaseRoute]:
    return ROUTES
