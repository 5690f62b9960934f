"""POST /calendly/webhook: verify the signature, find the account by its key, derive the dedup key.

Calendly signs `"<t>.<raw body>"` with the subscription's signing key (HMAC-SHA256, hex) and sends
`Calendly-Webhook-Signature: t=<unix>,v1=<hex>`. The key that verifies names the account; a
timestamp outside the tolerance is refused so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import msgspec

from hookline.ingest import validate
from hookline.provider import Reply, WebhookReceiver
from hookline.providers.calendly import catalog, signature
from hookline.providers.calendly.keys import KeyCache
from hookline.timeparse import RANGE_TEXT, parse_time
from hookline.types import IncomingEvent, Rejection

PROVIDER = "calendly"


class _Envelope(msgspec.Struct):
    event: str | None = None
    created_at: str | None = None
    created_by: str | None = None
    payload: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)


class _PayloadUri(msgspec.Struct):
    uri: str | None = None


_decode_envelope = msgspec.json.Decoder(_Envelope).decode
_decode_uri = msgspec.json.Decoder(_PayloadUri).decode


def dedup_key(event: str, uri: str | None, created_at: str | None, body: bytes) -> str:
    """Calendly has no event id: the event, the resource's URI and the envelope's created_at name one
    event (a resend is byte-identical in these); without them, a digest of the body."""
    if uri and created_at:
        return f"{event}:{uri}:{created_at}"
    return "sha256:" + hashlib.sha256(body).hexdigest()


def payload_uri(payload: bytes) -> str | None:
    if not payload:
        return None
    try:
        return _decode_uri(payload).uri
    except msgspec.ValidationError:
        return None  # a payload that is not an object with a string uri: dedup by body digest


def occurred_at(created_at: str | None) -> float | None:
    """A Calendly time as unix seconds; None when absent or not a plausible time (timeparse)."""
    if not created_at:
        return None
    try:
        return parse_time(created_at)
    except ValueError:
        return None


def checked_created_at(created_at: str | None) -> float | None:
    """The envelope's `created_at` as unix seconds; a 400 naming the field when it is present but not
    a plausible ISO 8601 time ("nan", year 58900): it versions every booking row the event writes."""
    if created_at is None:
        return None
    seconds = occurred_at(created_at)
    if seconds is None:
        raise Rejection(400, "invalid_envelope", f"created_at must be an ISO 8601 time within {RANGE_TEXT}")
    return seconds


class CalendlyReceiver(WebhookReceiver):
    provider = PROVIDER
    path = "/calendly/webhook"
    # The signature is an HMAC (no secret in it) and proves origin later.
    stored_headers = (*WebhookReceiver.stored_headers, signature.HEADER)

    def __init__(self, keys: KeyCache, tolerance_seconds: float) -> None:
        self.keys = keys
        self.tolerance = tolerance_seconds

    async def parse(self, headers: Mapping[str, str], body: bytes, received_at: float) -> IncomingEvent | Reply:
        raw = headers.get(signature.HEADER)
        if not raw:
            raise Rejection(401, "missing_signature", "no Calendly-Webhook-Signature header")
        try:
            timestamp, signatures = signature.parse(raw)
        except ValueError as exc:
            raise Rejection(401, "invalid_signature", "Calendly-Webhook-Signature is not t=<unix>,v1=<hex>") from exc
        if abs(received_at - timestamp) > self.tolerance:
            raise Rejection(401, "stale_signature", f"signature timestamp more than {self.tolerance:g} s away")
        account = self.keys.account_for(timestamp, body, signatures)
        if account is None:
            if self.keys.unreadable:  # maybe signed with a key hookline cannot open: retry later, not refuse
                raise Rejection(503, "unavailable", "hookline cannot check signatures now, retry")
            raise Rejection(401, "bad_signature", "signature does not match any signing key")
        try:
            env = _decode_envelope(body)
        except msgspec.ValidationError as exc:
            raise Rejection(400, "invalid_envelope", f"not a Calendly event: {exc}") from exc
        except msgspec.DecodeError as exc:
            raise Rejection(400, "invalid_json", "body is not JSON") from exc
        if not env.event:
            raise Rejection(400, "missing_event", "no event in the body")
        validate.text("event", env.event, validate.MAX_NAME_BYTES)
        validate.text("created_at", env.created_at)
        at = checked_created_at(env.created_at)
        uri = payload_uri(bytes(env.payload))
        validate.text("payload.uri", uri)
        return IncomingEvent(
            provider=PROVIDER,
            account=account,
            event=env.event,
            dedup_key=dedup_key(env.event, uri, env.created_at, body),
            body=body,
            received_at=received_at,
            known=catalog.is_known(env.event),
            resource=catalog.resource_of(env.event),
            resource_id=uri,
            occurred_at=at,
        )

    def event_label(self, event: str) -> str:
        return event if catalog.is_known(event) else "unknown"
