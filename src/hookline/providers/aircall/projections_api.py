"""The projections as JSON: /api/calls, /api/calls/{id}, /api/agents, /api/contacts, /api/numbers,
/api/teams, /api/tags, /api/messages. Newest first, with cursor pagination like /api/events."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from hookline.providers.aircall import recordings
from hookline.providers.aircall.recordings_api import archive_fields
from hookline.runtime import Runtime
from hookline.store.engine import Connection
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
from hookline.web.responses import JSON, error

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
    names = [d[0] for d in cur.description]
    return [
        {n: _value(n, v) for n, v in zip(names, row, strict=True) if n not in _HIDDEN}
        for row in cur.fetchall()
    ]


def query(conn: Connection, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    return rows_as_dicts(conn.execute(sql, params))


@dataclass(frozen=True)
class Listing:
    """One list endpoint: a table, its columns, and the filters it understands."""

    path: str
    key: str  # the response's list name
    table: str
    columns: str
    filters: Callable[[Mapping[str, str]], list[tuple[str, Any]]]
    deletable: bool = True


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


_CALL_COLUMNS = (
    'account, id, call_uuid, direction, status, started_at, answered_at, ended_at, duration, missed_call_reason,'
    ' raw_digits, archived, "user", number, contact, assigned_to, teams, tags, comments, transferred_by,'
    " transferred_to, participants, has_recording, has_voicemail, last_event"
)
# current_call_id: the agent's latest call that is not done yet (read from the calls, so it is as
# order-independent as they are).
_AGENT_COLUMNS = (
    "u.account, u.id, COALESCE(u.name, u.seen_name) AS name, COALESCE(u.email, u.seen_email) AS email,"
    " u.available, u.availability_status, u.substatus, u.time_zone, u.language, u.wrap_up_time, u.deleted,"
    " u.connected, u.in_wrap_up, CASE WHEN u.last_seen < 0 THEN NULL ELSE u.last_seen END AS last_seen,"
    " (SELECT c.id FROM aircall_calls c WHERE c.account = u.account AND c.user_id = u.id"
    " AND c.status <> 'done' ORDER BY c.started_at DESC, c.id DESC LIMIT 1) AS current_call_id"
)

LISTINGS = (
    Listing("/api/calls", "calls", "aircall_calls", _CALL_COLUMNS, _call_filters, deletable=False),
    Listing("/api/agents", "agents", "aircall_users u", _AGENT_COLUMNS, _account),
    Listing(
        "/api/contacts", "contacts", "aircall_contacts",
        "account, id, first_name, last_name, company_name, description, information, is_shared, phone_numbers,"
        " emails, created_at, updated_at, deleted",
        _account,
    ),
    Listing(
        "/api/numbers", "numbers", "aircall_numbers",
        'account, id, name, digits, e164_digits, country, time_zone, "open", availability_status, is_ivr,'
        " live_recording_activated, priority, users, created_at, deleted",
        _account,
    ),
    Listing("/api/teams", "teams", "aircall_teams", "account, id, name, users, created_at, deleted", _account),
    Listing("/api/tags", "tags", "aircall_tags", "account, id, name, color, description", _account, deletable=False),
)


def call_record(conn: Connection, call_id: int, account: str | None) -> dict[str, Any] | str | None:
    """A call with its timeline and intelligence results; "ambiguous" when several accounts have it."""
    sql = f"SELECT {_CALL_COLUMNS}, data FROM aircall_calls WHERE id = ?"
    params: list[Any] = [call_id]
    if account:
        sql += " AND account = ?"
        params.append(account)
    found = query(conn, sql, params)
    if len(found) > 1:
        return "ambiguous"
    call: dict[str, Any] = found[0] if found else {"account": account, "id": call_id}
    acct = call["account"]
    timeline = query(
        conn,
        'SELECT event, "timestamp", event_id FROM aircall_call_timeline'
        ' WHERE call_id = ?' + (" AND account = ?" if acct else "")
        + ' ORDER BY "timestamp", event_id',
        [call_id, acct] if acct else [call_id],
    )
    results = query(
        conn,
        'SELECT kind, result_id, event, "timestamp", data FROM aircall_call_intelligence'
        " WHERE call_id = ?" + (" AND account = ?" if acct else "") + ' ORDER BY kind, "timestamp"',
        [call_id, acct] if acct else [call_id],
    )
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


def routes(runtime: Runtime) -> list[BaseRoute]:  # noqa: C901
    db = runtime.db

    def listing_route(spec: Listing) -> Route:
        alias = spec.table.split()[-1] + "." if " " in spec.table else ""

        async def endpoint(request: Request) -> JSON:
            q = request.query_params
            try:
                limit = int_param(q, "limit", 100, 1, MAX_LIMIT) or 100
                cursor = int_param(q, "cursor", None, 1, MAX_ID)
                conds = spec.filters(q)
                if spec.deletable and not bool_param(q, "include_deleted"):
                    conds.append((f"{alias}deleted = ?", False))
            except BadQuery as exc:
                return error(400, "invalid_query", str(exc))
            if cursor is not None:
                conds.append((f"{alias}id < ?", cursor))
            where = " AND ".join(c for c, _ in conds)
            params = [v for c, v in conds if "?" in c]
            sql = f"SELECT {spec.columns} FROM {spec.table}" + (f" WHERE {where}" if where else "")
            sql += f" ORDER BY {alias}id DESC LIMIT ?"

            def run() -> list[dict[str, Any]]:
                with db.connection() as conn:
                    return query(conn, sql, [*params, limit + 1])

            rows = await run_in_threadpool(run)
            more = len(rows) > limit
            rows = rows[:limit]
            return JSON({spec.key: rows, "next_cursor": str(rows[-1]["id"]) if more else None})

        return Route(spec.path, endpoint)

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
        sql = (
            "SELECT account, id, kind, direction, status, channel, body, external_number, raw_digits, number_id,"
            " contact_id, user_id, participants, media_details, created_at, sent_at, updated_at, last_event"
            " FROM aircall_messages" + (f" WHERE {where}" if where else "")
            + " ORDER BY COALESCE(created_at, 0) DESC, id DESC LIMIT ?"
        )

        def run() -> list[dict[str, Any]]:
            with db.connection() as conn:
                return query(conn, sql, [*params, limit + 1])

        rows = await run_in_threadpool(run)
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
        account = request.query_params.get("account") or None

        def run() -> dict[str, Any] | str | None:
            with db.connection() as conn:
                return call_record(conn, call_id, account)

        found = await run_in_threadpool(run)
        if found == "ambiguous":
            return error(409, "ambiguous", f"call {call_id} exists in several accounts: add ?account=")
        if found is None:
            return error(404, "not_found", f"no call {call_id}")
        return JSON(found)

    return [
        *(listing_route(spec) for spec in LISTINGS),
        Route("/api/calls/{id}", call_detail),
        Route("/api/messages", messages),
    ]
