"""One webhook event as the simulator emits it, and its wire body for a given webhook token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from hookline.providers.aircall.catalog import lookup


@dataclass(frozen=True)
class Emitted:
    """An event at the simulated second it happened; `data` is the JSON of the resource at that moment.

    `data` is encoded when the event is emitted, so later changes to the live object never leak into
    an event already emitted (Aircall's `data` is a snapshot).
    """

    event: str
    timestamp: int
    data: bytes

    @property
    def resource(self) -> str:
        spec = lookup(self.event)
        return spec.resource if spec is not None else self.event.split(".", 1)[0]

    def body(self, token: str) -> bytes:
        """Aircall's envelope: {resource, event, timestamp, token, data}."""
        return msgspec.json.encode(
            {
                "resource": self.resource,
                "event": self.event,
                "timestamp": self.timestamp,
                "token": token,
                "data": msgspec.Raw(self.data),
            }
        )

    def decoded(self) -> dict[str, Any]:
        data: dict[str, Any] = msgspec.json.decode(self.data)
        return data
