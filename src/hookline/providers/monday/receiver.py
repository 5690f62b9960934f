"""POST /monday/webhook: the challenge handshake, the account, the JWT, the dedup key.

monday first POSTs `{"challenge": "..."}` and expects the same JSON back (nothing is stored). Events
come as `{"event": {type, boardId, pulseId, triggerTime, triggerUuid, ...}}`. The account is named in
the webhook URL (`/monday/webhook?account=NAME`), or is the only one registered. Webhooks created by
a monday app carry `Authorization: <JWT>` signed (HS256) with the app's signing secret: when the
account has a secret, a valid JWT is required.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from urllib.parse import parse_qs

import jwt
import msgspec

from hookline.ingest import validate
from hookline.provider import Reply, WebhookReceiver
from hookline.providers.monday import catalog
from hookline.providers.monday.accounts import AccountCache, Receiving
from hookline.timeparse import RANGE_TEXT, optional_time
from hookline.types import IncomingEvent, Rejection

PROVIDER = "monday"

Id = int | str | None


class _Body(msgspec.Struct):
    challenge: str | None = None
    event: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)  # decoded apart, kept for its digest


class _Event(msgspec.Struct):
    type: str | None = None
    boardId: Id = None
    pulseId: Id = None
    itemId: Id = None
    updateId: Id = None
    columnId: Id = None
    subitem: Id = None  # move_subitem names the moved subitem here (no pulseId)
    triggerTime: str | int | float | None = None
    triggerUuid: str | None = None


_decode_body = msgspec.json.Decoder(_Body).decode
_decode_event = msgspec.json.Decoder(_Event).decode


def item_of(ev: _Event) -> Id:
    """The item an event is about: pulseId, itemId, or the `subitem` of a move_subitem."""
    for value in (ev.pulseId, ev.itemId, ev.subitem):
        if value is not None:
            return value
    return None


def dedup_key(ev: _Event, raw_event: bytes, body: bytes) -> str:
    """monday's triggerUuid names one trigger; with only a triggerTime, a digest of the event is added
    so that two changes in the same instant are not merged; with neither, the body's digest."""
    item = item_of(ev)
    if ev.triggerUuid:
        return f"{ev.type}:{item}:{ev.triggerUuid}"
    if ev.triggerTime is not None:
        return f"{ev.type}:{item}:{ev.triggerTime}:{hashlib.sha256(raw_event).hexdigest()[:16]}"
    return "sha256:" + hashlib.sha256(body).hexdigest()


def trigger_time(value: object) -> float | None:
    """monday's triggerTime (ISO 8601, or unix seconds or milliseconds) as unix seconds; None when
    absent or not a plausible time ("inf", 1e20: timeparse.plausible)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 10**11 < value < 10**15:
        value = value / 1000  # milliseconds (bounded: 2**2000 / 1000 would overflow a float)
    return optional_time(value)


def checked_trigger_time(value: str | int | float | None) -> float | None:
    """`triggerTime` as unix seconds; a 400 naming the field when it is present but not a plausible
    time: it versions every register of the item, so "inf" would freeze the item for good."""
    if value is None:
        return None
    seconds = trigger_time(value)
    if seconds is None:
        raise Rejection(400, "invalid_envelope", f"event.triggerTime must be a time within {RANGE_TEXT}")
    return seconds


class MondayReceiver(WebhookReceiver):
    provider = PROVIDER
    path = "/monday/webhook"

    def __init__(self, accounts: AccountCache, jwt_leeway: float = 30) -> None:
        self.accounts = accounts
        self.leeway = jwt_leeway

    def _account(self, query: str) -> Receiving:
        names = parse_qs(query).get("account")
        if names and names[0].strip():
            account = self.accounts.get(names[0].strip())
            if account is None:
                raise Rejection(401, "unknown_account", "unknown account in ?account=")
            return account
        accounts = self.accounts.only()
        if len(accounts) == 1:
            return accounts[0]
        if not accounts:
            raise Rejection(401, "unknown_account", "no monday.com account is registered")
        raise Rejection(400, "account_required", "several accounts: add ?account=NAME to the webhook URL")

    def _check_jwt(self, account: Receiving, headers: Mapping[str, str]) -> None:
        if account.secret_unreadable:
            # Never accept unsigned events for an account that has a secret hookline cannot open.
            raise Rejection(503, "unavailable", "hookline cannot check this account's signature now, retry")
        if account.signing_secret is None:
            return  # webhooks created with a personal API token are not signed
        value = headers.get("authorization", "").strip()
        if value.lower().startswith("bearer "):
            value = value[7:].strip()
        if not value:
            raise Rejection(401, "missing_jwt", "Authorization header with a JWT required")
        try:
            jwt.decode(
                value,
                account.signing_secret,
                algorithms=["HS256"],
                options={"verify_aud": False},  # aud is the public URL, which hookline may not know
                leeway=self.leeway,
            )
        except jwt.ExpiredSignatureError as exc:
            raise Rejection(401, "expired_jwt", "the JWT has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Rejection(401, "invalid_jwt", "the JWT does not verify with the signing secret") from exc

    async def parse(self, headers: Mapping[str, str], body: bytes, received_at: float) -> IncomingEvent | Reply:
        try:
            decoded = _decode_body(body)
        except msgspec.ValidationError as exc:
            raise Rejection(400, "invalid_envelope", f"not a monday.com webhook: {exc}") from exc
        except msgspec.DecodeError as exc:
            raise Rejection(400, "invalid_json", "body is not JSON") from exc
        raw_event = bytes(decoded.event)
        if raw_event in (b"", b"null"):
            raw_event = b""
        if decoded.challenge is not None and not raw_event:
            return Reply(200, {"challenge": decoded.challenge})
        account = self._account(headers.get(":query", ""))
        self._check_jwt(account, headers)
        if not raw_event:
            raise Rejection(400, "missing_event", "no event in the body")
        try:
            ev = _decode_event(raw_event)
        except msgspec.ValidationError as exc:
            raise Rejection(400, "invalid_envelope", f"not a monday.com event: {exc}") from exc
        if not ev.type:
            raise Rejection(400, "missing_event", "no event.type in the body")
        validate.text("event.type", ev.type, validate.MAX_NAME_BYTES)
        for name in ("pulseId", "itemId", "updateId", "columnId", "triggerTime", "triggerUuid"):
            validate.ident(f"event.{name}", getattr(ev, name))
        at = checked_trigger_time(ev.triggerTime)
        resource = catalog.resource_of(ev.type)
        ids = {"item": item_of(ev), "update": ev.updateId,
               "column": ev.columnId}
        resource_id = ids.get(resource or "")
        return IncomingEvent(
            provider=PROVIDER,
            account=account.name,
            event=ev.type,
            dedup_key=dedup_key(ev, raw_event, body),
            body=body,
            received_at=received_at,
            known=catalog.is_known(ev.type),
            resource=resource,
            resource_id=None if resource_id is None else str(resource_id),
            occurred_at=at,
        )

    def event_label(self, event: str) -> str:
        return event if catalog.is_known(event) else "unknown"
