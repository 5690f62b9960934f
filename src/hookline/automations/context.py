"""The context a rule sees: `event, provider, account, timestamp, data, body` and `steps.<id>`.

`data` is what a forwarding destination would receive for the event (Provider.forwarded_data), and
`body` the whole envelope as the dashboard shows it (Provider.displayed_body: secrets such as a
webhook token masked), so neither a condition nor a template can copy a secret into a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from hookline.pipeline.handlers import StoredEvent
from hookline.provider import Provider
from hookline.store.events import timestamp_of


def _json(raw: bytes) -> Any:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return raw.decode("utf-8", "replace")


def event_context(ev: StoredEvent, provider: Provider | None, *, with_body: bool = True) -> dict[str, Any]:
    """The context of one event; `with_body=False` leaves `body` out (the matcher, when no candidate
    rule reads it: decoding the envelope a second time is most of the cost of a context)."""
    if provider is None:
        body = _json(ev.body)
        data = body.get("data") if isinstance(body, dict) else body
    else:
        body = _json(provider.displayed_body(ev.body)) if with_body else None
        data = _json(provider.forwarded_data(ev.body))
    return {
        "event": ev.event,
        "provider": ev.provider,
        "account": ev.account,
        "timestamp": timestamp_of(ev),  # the backtest pages the log on the same time
        "data": data,
        "body": body,
        "steps": {},
    }


def with_steps(context: Mapping[str, Any], steps: Mapping[str, Any]) -> dict[str, Any]:
    return {**context, "steps": dict(steps)}
