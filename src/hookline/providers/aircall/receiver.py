"""POST /aircall/webhook: authenticate by the token in the body, derive the dedup key.

Aircall sends `{resource, event, timestamp, token, data}`, one event per POST, with no signature and
no event id. The token proves origin and names the account.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import msgspec

from hookline.ingest import validate
from hookline.provider import Reply, WebhookReceiver
from hookline.providers.aircall import catalog
from hookline.providers.aircall.tokens import TokenCache
from hookline.timeparse import RANGE_TEXT, plausible
from hookline.types import IncomingEvent, Rejection

PROVIDER = "aircall"


class _Envelope(msgspec.Struct):
    # Everything optional here so that we can answer precisely (401 before 400 for a missing event).
    event: str | None = None
    resource: str | None = None
    timestamp: int | float | None = None
    token: str | None = None
    data: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)  # kept raw: decoded only for its id


class _DataId(msgspec.Struct):
    id: int | str | None = None


_decode_envelope = msgspec.json.Decoder(_Envelope).decode
_decode_id = msgspec.json.Decoder(_DataId).decode


def envelope_data(body: bytes) -> bytes:
    """The raw JSON of a stored event's `data` (null when absent), without decoding it."""
    try:
        raw = bytes(_decode_envelope(body).data)
    except msgspec.DecodeError:  # stored bodies were checked on the way in; be safe anyway
        return b"null"
    return raw or b"null"


def masked_token_body(body: bytes) -> bytes:
    """The stored body with the envelope's token replaced by its masked hint, every other byte as stored."""
    from hookline.providers.aircall.tokens import mask

    try:
        token = _decode_envelope(body).token
    except msgspec.DecodeError:
        return body
    if not token:
        return body
    return body.replace(msgspec.json.encode(token), msgspec.json.encode(mask(token)))


def dedup_key(event: str, data_id: int | str | None, timestamp: float | None, data: bytes, body: bytes) -> str:
    """Same event delivered again -> same key.

    Aircall has no event id: the key is event, data.id and timestamp, plus a digest of `data`, so two
    different events on one object within the same second (two tags added at once) are never merged.
    Without an id or timestamp, the digest of the whole body.
    """
    if data_id is not None and timestamp is not None:
        return f"{event}:{data_id}:{timestamp}:{hashlib.sha256(data).hexdigest()[:16]}"
    return "sha256:" + hashlib.sha256(body).hexdigest()


def checked_timestamp(value: int | float | None) -> float | None:
    """The envelope's `timestamp` as unix seconds; a 400 naming the field when it is present but not a
    plausible time (1e20, 2**200, -1e308: it would become the event's time, its dedup key and the
    version of every row it projects)."""
    if value is None:
        return None
    seconds = plausible(value)
    if seconds is None:
        raise Rejection(400, "invalid_envelope", f"timestamp must be unix seconds within {RANGE_TEXT}")
    return seconds


class AircallReceiver(WebhookReceiver):
    provider = PROVIDER
    path = "/aircall/webhook"

    def __init__(self, tokens: TokenCache) -> None:
        self.tokens = tokens

    async def parse(self, headers: Mapping[str, str], body: bytes, received_at: float) -> IncomingEvent | Reply:
        try:
            env = _decode_envelope(body)
        except msgspec.ValidationError as exc:  # JSON, but not an object of the right shape
            raise Rejection(400, "invalid_envelope", f"not an Aircall event: {exc}") from exc
        except msgspec.DecodeError as exc:
            raise Rejection(400, "invalid_json", "body is not JSON") from exc
        if not env.token:
            raise Rejection(401, "missing_token", "no token in the body")
        account = self.tokens.account_for(env.token)
        if account is None:
            raise Rejection(401, "unknown_token", "unknown token")
        if not env.event:
            raise Rejection(400, "missing_event", "no event in the body")
        validate.text("event", env.event, validate.MAX_NAME_BYTES)
        validate.text("resource", env.resource, validate.MAX_NAME_BYTES)
        data_id: int | str | None = None
        data = bytes(env.data)
        if data:
            try:
                data_id = _decode_id(data).id
            except msgspec.ValidationError:
                data_id = None  # data is not an object with a scalar id: fall back to the body digest
        validate.ident("data.id", data_id)
        timestamp = checked_timestamp(env.timestamp)
        return IncomingEvent(
            provider=PROVIDER,
            account=account,
            event=env.event,
            dedup_key=dedup_key(env.event, data_id, env.timestamp, data, body),
            body=body,
            received_at=received_at,
            known=catalog.is_known(env.event),
            resource=env.resource or catalog.family_of(env.event),
            resource_id=None if data_id is None else str(data_id),
            occurred_at=timestamp,
        )

    def event_label(self, event: str) -> str:
        return event if catalog.is_known(event) else "unknown"
