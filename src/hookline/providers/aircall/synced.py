"""Records read from Aircall's REST API as `<resource>.synced` events for the event log.

The body is shaped like a webhook envelope (`{resource, event, timestamp, data}`, no token) so that
everything downstream reads one format. `timestamp` is when hookline fetched the record: a webhook
snapshot taken later still wins in projections, which keep the snapshot with the greatest timestamp.
A call is stamped by its own data too, never earlier than the moment its status was reached (ended_at
for a finished call): hookline's clock may lag Aircall's, and a finished call read from the API must
not lose to an older webhook snapshot of the same call (see ranks.synced_call_rank).

The dedup key is the event, the record's id and a digest of the record, so re-running a backfill
stores nothing new while an object that changed since is recorded again. Signed media links
(recordings, voicemails) change on every read: only their path enters the digest.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec

from hookline.types import IncomingEvent

PROVIDER = "aircall"

# Aircall's list endpoint -> the resource name in envelopes and event names.
SINGULAR = {
    "calls": "call",
    "users": "user",
    "contacts": "contact",
    "numbers": "number",
    "teams": "team",
    "tags": "tag",
}
# Fields holding links that are re-signed on each read.
_SIGNED_LINKS = ("recording", "recording_short_url", "voicemail", "voicemail_short_url", "asset")


def _stable(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    for key in _SIGNED_LINKS:
        value = out.get(key)
        if isinstance(value, str) and value:
            parts = urlsplit(value)
            out[key] = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return out


def record_digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(msgspec.json.encode(_stable(record), order="sorted")).hexdigest()[:16]


def call_reached_at(call: dict[str, Any]) -> float | None:
    """When a call reached its current status, by its own data: ended_at, answered_at or started_at."""
    name = {"done": "ended_at", "answered": "answered_at"}.get(str(call.get("status")), "started_at")
    value = call.get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def synced_event(account: str, resource: str, record: dict[str, Any], fetched_at: float) -> IncomingEvent:
    """One record of list endpoint `resource` (e.g. "calls") as a `<singular>.synced` event."""
    singular = SINGULAR[resource]
    event = f"{singular}.synced"
    rid = record.get("id")
    timestamp = int(fetched_at)
    if singular == "call":
        timestamp = max(timestamp, int(call_reached_at(record) or 0))
    body = msgspec.json.encode({"resource": singular, "event": event, "timestamp": timestamp, "data": record})
    key = f"{event}:{rid}:{record_digest(record)}" if rid is not None else "sha256:" + hashlib.sha256(body).hexdigest()
    return IncomingEvent(
        provider=PROVIDER,
        account=account,
        event=event,
        dedup_key=key,
        body=body,
        received_at=fetched_at,
        known=True,
        resource=singular,
        resource_id=None if rid is None else str(rid),
        occurred_at=float(timestamp),
        origin="backfill",
    )
