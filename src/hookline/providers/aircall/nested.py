"""A call's nested objects (user, number, contact, participants, ...) read from its `data`.

They are stored once, in `data` (the call as Aircall sent it): the API, the dashboard and exports
derive them here, as the projection used to store them in columns of their own (migration 0009
dropped those: they doubled a call's row). The result is the catalog model's view of each object:
its known fields in the model's order, absent ones left out.
"""

from __future__ import annotations

from typing import Any

import msgspec

from hookline.providers.aircall import models as m

NESTED = ("user", "number", "contact", "assigned_to", "teams", "tags", "comments", "transferred_by",
          "transferred_to", "participants")
_decode = msgspec.json.Decoder(m.Call).decode


def nested(data: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """{name: object or None} for each of NESTED, from a call's `data` (JSON text, or PostgreSQL's
    decoded jsonb)."""
    call = msgspec.convert(data, m.Call) if isinstance(data, dict) else _decode(data)
    return {name: msgspec.to_builtins(getattr(call, name)) for name in NESTED}
