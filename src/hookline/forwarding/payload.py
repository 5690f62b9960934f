"""What a destination receives: `{provider, account, event, timestamp, data}` as JSON, signed."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from hookline import __version__
from hookline.forwarding.claims import Job
from hookline.timeparse import plausible

USER_AGENT = f"hookline/{__version__}"
_encode = msgspec.json.Encoder().encode


def body(job: Job, data_json: Callable[[str, bytes], bytes]) -> bytes:
    """`data_json(provider, raw body)` gives the JSON of `data` (the provider's choice); spliced in raw."""
    when = plausible(job.occurred_at)  # an infinite time stored by an older version: the time of receipt
    if when is None:
        when = job.received_at
    timestamp: float | int = int(when) if float(when).is_integer() else when
    return _encode(
        {
            "provider": job.provider,
            "account": job.account,
            "event": job.event,
            "timestamp": timestamp,
            "data": msgspec.Raw(data_json(job.provider, job.body)),
        }
    )


def headers(job: Job, signature_headers: dict[str, str]) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        # The log's id of the event: the same across retries AND replays (webhook-id changes on a replay).
        "hookline-event-id": str(job.event_id),
        **signature_headers,
    }
