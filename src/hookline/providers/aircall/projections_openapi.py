"""The OpenAPI description of projections_api's routes (Provider.openapi_paths)."""

from __future__ import annotations

from hookline.providers.aircall.projections_api import LISTINGS, MAX_LIMIT
from hookline.providers.aircall.recordings_openapi import ARCHIVE_FIELDS
from hookline.web import openapi_parts as p
from hookline.web.params import MAX_ID

_S = p.nullable(p.STR)
_I = p.nullable(p.INT)
_B = p.nullable(p.BOOL)
_T = p.nullable(p.UNIX)
_O = p.nullable(p.OBJ)
_L = p.nullable(p.array(p.ANY))
_KEY = {"account": p.STR, "id": p.INT}

_CALL = {
    **_KEY,
    "call_uuid": _S,
    "direction": _S,
    "status": {**_S, "description": "initial, answered or done"},
    "started_at": _T,
    "answered_at": _T,
    "ended_at": _T,
    "duration": _I,
    "missed_call_reason": _S,
    "raw_digits": _S,
    "archived": _B,
    "user": _O,
    "number": _O,
    "contact": _O,
    "assigned_to": _O,
    "teams": _L,
    "tags": _L,
    "comments": _L,
    "transferred_by": _O,
    "transferred_to": _O,
    "participants": _L,
    "has_recording": p.BOOL,
    "has_voicemail": p.BOOL,
    "last_event": p.STR,
}
_ITEMS = {
    "calls": p.obj(_CALL),
    "agents": p.obj(
        {
            **_KEY,
            "name": _S,
            "email": _S,
            "available": _B,
            "availability_status": _S,
            "substatus": _S,
            "time_zone": _S,
            "language": _S,
            "wrap_up_time": _I,
            "deleted": p.BOOL,
            "connected": _B,
            "in_wrap_up": _B,
            "last_seen": _T,
            "current_call_id": {**_I, "description": "the agent's latest call not done yet"},
        }
    ),
    "contacts": p.obj(
        {
            **_KEY,
            **{name: _S for name in ("first_name", "last_name", "company_name", "description", "information")},
            "is_shared": _B,
            "phone_numbers": _L,
            "emails": _L,
            "created_at": _T,
            "updated_at": _T,
            "deleted": p.BOOL,
        }
    ),
    "numbers": p.obj(
        {
            **_KEY,
            **{name: _S for name in ("name", "digits", "e164_digits", "country", "time_zone")},
            "open": _B,
            "availability_status": _S,
            "is_ivr": _B,
            "live_recording_activated": _B,
            "priority": _I,
            "users": _L,
            "created_at": _T,
            "deleted": p.BOOL,
        }
    ),
    "teams": p.obj({**_KEY, "name": _S, "users": _L, "created_at": _T, "deleted": p.BOOL}),
    "tags": p.obj({**_KEY, "name": _S, "color": _S, "description": _S}),
}
_MESSAGE = p.obj(
    {
        "account": p.STR,
        "id": p.STR,
        "kind": p.STR,
        **{name: _S for name in ("direction", "status", "channel", "body", "external_number", "raw_digits")},
        **{name: _I for name in ("number_id", "contact_id", "user_id")},
        "participants": _L,
        "media_details": p.ANY,
        "created_at": _T,
        "sent_at": _T,
        "updated_at": _T,
        "last_event": p.STR,
    }
)
_RESULT = p.obj({"result_id": p.STR, "event": p.STR, "timestamp": _T, "data": p.ANY})
# Events or AI results may arrive before the call itself: then only the key and these are there.
_CALL_DETAIL = p.obj(
    {
        **_CALL,
        "account": p.nullable(p.STR),
        "data": {**p.OBJ, "description": "the call as Aircall last sent it"},
        "known": {"type": "boolean", "description": "false: events or results arrived, the call itself not yet"},
        **ARCHIVE_FIELDS,
        "timeline": p.array(p.obj({"event": p.STR, "timestamp": _T, "event_id": p.INT})),
        "intelligence": {
            "type": "object",
            "additionalProperties": p.array(_RESULT),
            "description": "AI results by kind",
        },
    },
    optional=(*(name for name in _CALL if name not in _KEY), "data"),
)
_ID_FILTER = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
_INCLUDE_DELETED = p.query("include_deleted", p.BOOL, "also rows deleted at Aircall")


def openapi_paths() -> p.Paths:
    paths: p.Paths = {}
    for spec in LISTINGS:
        params = [p.ACCOUNT]
        if spec.key == "calls":
            params += [
                p.query("status", p.STR, "initial, answered or done"),
                p.query("direction", p.STR, "inbound or outbound"),
                p.query("user", _ID_FILTER, "the agent's id"),
                p.query("number", _ID_FILTER, "the Aircall number's id"),
                p.query("contact", _ID_FILTER, "the contact's id"),
                p.query("missed", p.BOOL, "only missed (true) or only not missed (false) calls"),
                p.time_query("since", "started at or after"),
            ]
        if spec.deletable:
            params.append(_INCLUDE_DELETED)
        params += [p.limit(MAX_LIMIT), p.ID_CURSOR]
        paths[spec.path] = {
            "get": p.operation(
                f"Aircall {spec.key}, newest first",
                "aircall",
                p.page(spec.key, _ITEMS[spec.key]),
                tuple(params),
                errors=(400,),
            )
        }
    paths["/api/calls/{id}"] = {
        "get": p.operation(
            "One call: its latest state, timeline and AI results",
            "aircall",
            _CALL_DETAIL,
            (p.path("id", p.ID, "the Aircall call id"), p.query("account", p.STR, "the account, when ids collide")),
            errors=(400, 404, 409),
            description="409 when the id exists in several accounts and `account` is not given.",
        )
    }
    paths["/api/messages"] = {
        "get": p.operation(
            "SMS, WhatsApp and group messages, newest first",
            "aircall",
            p.page("messages", _MESSAGE),
            (
                p.ACCOUNT,
                p.query("direction", {"type": "string", "enum": ["inbound", "outbound"]}, "inbound or outbound"),
                p.query("status", p.STR, "delivery status"),
                p.query("channel", p.STR, "e.g. sms, whatsapp"),
                p.query("number", _ID_FILTER, "the Aircall number's id"),
                p.time_query("since", "created at or after"),
                p.limit(MAX_LIMIT),
                p.query("cursor", p.STR, "`next_cursor` of the previous page"),
            ),
            errors=(400,),
        )
    }
    return paths
