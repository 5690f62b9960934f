"""An AsyncAPI 3.0 document of hookline's Aircall receive channel, generated from the catalog.

One message per catalog event type; each payload is the webhook envelope whose `data` schema is
derived from the event's msgspec model. Documentation and decoding share one source, so they
cannot drift: a new catalog line or model field shows up here without touching this file.
"""

from __future__ import annotations

from typing import Any

import msgspec

from hookline import __version__ as _hookline_version
from hookline.providers.aircall.catalog import CATALOG, EventType

__all__ = ["ADDRESS", "asyncapi_document"]

ADDRESS = "/aircall/webhook"
_CHANNEL = "aircallWebhook"
_OPERATION = "receiveAircallWebhook"
_SCHEMAS = "#/components/schemas/"
_HTTP_BINDING = {"http": {"method": "POST", "bindingVersion": "0.3.0"}}


def _message_key(event: str) -> str:
    # Component keys must match ^[\w.\-]+$; Aircall's event names already do.
    return event


def _payload(spec: EventType, data_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"Aircall `{spec.name}` webhook body.",
        "required": ["resource", "event", "timestamp", "token", "data"],
        "properties": {
            "resource": {"type": "string", "const": spec.resource},
            "event": {"type": "string", "const": spec.name},
            "timestamp": {"type": "integer",
                          "description": "When Aircall built the payload, epoch seconds (UTC)."},
            "token": {"type": "string",
                      "description": "The webhook's token: hookline authenticates the sender by it."},
            "data": data_schema,
        },
    }


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document, as a JSON-serialisable dict."""
    specs = list(CATALOG.values())
    models = sorted({s.model for s in specs if s.model is not None}, key=lambda t: t.__name__)
    refs, schemas = msgspec.json.schema_components(models, ref_template=_SCHEMAS + "{name}")
    ref_of = dict(zip(models, refs, strict=True))

    messages: dict[str, Any] = {}
    for spec in specs:
        data_schema = ref_of[spec.model] if spec.model is not None else {"type": "object"}
        messages[_message_key(spec.name)] = {
            "name": spec.name,
            "title": spec.name,
            "summary": spec.description,
            "contentType": "application/json",
            "tags": [{"name": spec.family}],
            "payload": _payload(spec, data_schema),
        }

    families = sorted({s.family for s in specs})
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "hookline: Aircall webhook receiver",
            "version": _hookline_version,
            "description": (
                "Aircall POSTs one JSON event per request to this endpoint. hookline authenticates it "
                "by the `token` in the body, stores it durably and answers 200 within Aircall's 5 s "
                f"timeout. {len(specs)} event types; `data` mirrors the Aircall object of the event's "
                "family and unknown fields are tolerated."
            ),
            "tags": [{"name": f} for f in families],
        },
        "defaultContentType": "application/json",
        "servers": {
            "hookline": {
                "host": "{host}",
                "protocol": "https",
                "description": "A self-hosted hookline instance.",
                "variables": {"host": {"default": "localhost:8000"}},
            },
        },
        "channels": {
            _CHANNEL: {
                "address": ADDRESS,
                "title": "Aircall webhook",
                "description": "Receives every Aircall webhook event type, identified by the `event` field.",
                "servers": [{"$ref": "#/servers/hookline"}],
                "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in messages},
            },
        },
        "operations": {
            _OPERATION: {
                "action": "receive",
                "title": "Receive an Aircall webhook event",
                "channel": {"$ref": f"#/channels/{_CHANNEL}"},
                "messages": [{"$ref": f"#/channels/{_CHANNEL}/messages/{key}"} for key in messages],
                "bindings": _HTTP_BINDING,
            },
        },
        "components": {"messages": messages, "schemas": schemas},
    }
