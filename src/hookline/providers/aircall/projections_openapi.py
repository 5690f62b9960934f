"""The OpenAPI description of projections_api's routes (Provider.openapi_paths); their answers are
the Structs of shapes.py."""

from __future__ import annotations

from hookline.providers.aircall import shapes
from hookline.providers.aircall.projections_api import LISTINGS
from hookline.web import openapi_parts as p
from hookline.web.paging import MAX_LIMIT
from hookline.web.params import MAX_ID

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
                spec.page,
                tuple(params),
                errors=(400,),
            )
        }
    paths["/api/calls/{id}"] = {
        "get": p.operation(
            "One call: its latest state, timeline and AI results",
            "aircall",
            shapes.CallDetail,
            (p.path("id", p.ID, "the Aircall call id"), p.query("account", p.STR, "the account, when ids collide")),
            errors=(400, 404, 409),
            description="409 when the id exists in several accounts and `account` is not given.",
        )
    }
    paths["/api/messages"] = {
        "get": p.operation(
            "SMS, WhatsApp and group messages, newest first",
            "aircall",
            shapes.MessagesPage,
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
