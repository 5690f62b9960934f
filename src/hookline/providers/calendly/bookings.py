"""The bookings projection: a pure function of the event log, one row per Calendly invitee.

Calendly's invitee events carry the whole invitee (with its `scheduled_event`) as it was at the
envelope's `created_at`: each is a snapshot. A row holds its greatest snapshot by (created_at, rank,
digest), rank putting a cancel above the rest at the same instant: a cancel stays final unless a
newer snapshot says otherwise. Reschedule links are facts that only accumulate (the old invitee
names the new one, the new one the old), merged from both sides. So any permutation of the events,
with duplicates, gives the same table.

`apply(conn, event_row)` folds one event (`event_row`: a mapping with at least "account", "event",
"body"); `BookingsProjection` is the pipeline handler workers and `hookline rebuild` run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from hookline.pipeline.handlers import EventHandler, StoredEvent
from hookline.providers.calendly.receiver import occurred_at
from hookline.store.engine import Connection
from hookline.store.queries import load_queries
from hookline.timeparse import EARLIEST, LATEST, plausible

Q = load_queries(__package__)

PROVIDER = "calendly"
RANK = {
    "invitee.created": 1,
    "invitee.synced": 1,
    "invitee_no_show.created": 2,
    "invitee_no_show.deleted": 2,
    "invitee.canceled": 3,
}
# The columns of a row, in the order of queries.sql's upsert_booking.
COLUMNS = (
    "account", "invitee_uri", "id", "scheduled_event_uri", "event_type_uri", "event_name", "start_time", "end_time",
    "status", "name", "email", "timezone", "no_show", "canceled_at", "cancel_reason", "canceler_type", "rescheduled",
    "old_invitee", "new_invitee", "questions_and_answers", "tracking", "utm_source", "utm_medium", "utm_campaign",
    "created_at", "updated_at", "snapshot_at", "snapshot_rank", "snapshot_digest",
)  # fmt: skip


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _time(value: Any) -> float | None:
    return occurred_at(value) if isinstance(value, str) else None


def row_of(account: str, event: str, envelope: Mapping[str, Any]) -> dict[str, Any] | None:
    """The row a snapshot describes, or None when the event is not an invitee snapshot."""
    payload = envelope.get("payload")
    if event not in RANK or not isinstance(payload, dict) or not _str(payload.get("uri")):
        return None
    uri = str(payload["uri"])
    meeting = _dict(payload.get("scheduled_event"))
    cancellation = _dict(payload.get("cancellation"))
    tracking = _dict(payload.get("tracking"))
    answers = payload.get("questions_and_answers")
    answers = answers if isinstance(answers, list) else []
    snapshot_at = _time(envelope.get("created_at"))
    if snapshot_at is None:
        snapshot_at = _time(payload.get("updated_at")) or 0.0
    new_invitee = _str(payload.get("new_invitee"))
    return {
        "account": account,
        "invitee_uri": uri,
        "id": uri.rstrip("/").rsplit("/", 1)[-1],
        "scheduled_event_uri": _str(payload.get("event")) or _str(meeting.get("uri")),
        "event_type_uri": _str(meeting.get("event_type")),
        "event_name": _str(meeting.get("name")),
        "start_time": _time(meeting.get("start_time")),
        "end_time": _time(meeting.get("end_time")),
        "status": _str(payload.get("status")),
        "name": _str(payload.get("name")),
        "email": _str(payload.get("email")),
        "timezone": _str(payload.get("timezone")),
        "no_show": bool(payload.get("no_show")),
        "canceled_at": _time(cancellation.get("created_at")),
        "cancel_reason": _str(cancellation.get("reason")),
        "canceler_type": _str(cancellation.get("canceler_type")),
        "rescheduled": bool(payload.get("rescheduled")) or new_invitee is not None,
        "old_invitee": _str(payload.get("old_invitee")),
        "new_invitee": new_invitee,
        "questions_and_answers": canonical(answers),
        "tracking": canonical(tracking),
        "utm_source": _str(tracking.get("utm_source")),
        "utm_medium": _str(tracking.get("utm_medium")),
        "utm_campaign": _str(tracking.get("utm_campaign")),
        "created_at": _time(payload.get("created_at")),
        "updated_at": _time(payload.get("updated_at")),
        "snapshot_at": snapshot_at,
        "snapshot_rank": RANK[event],
        "snapshot_digest": hashlib.sha256(canonical(payload).encode()).hexdigest()[:32],
    }



def apply(conn: Connection, event_row: Mapping[str, Any]) -> None:
    """Fold one event into `bookings` (idempotent, order-independent). Call inside a transaction."""
    event = str(event_row["event"])
    if event not in RANK:
        return
    try:
        envelope = json.loads(bytes(event_row["body"]))
    except (ValueError, TypeError):
        return
    if not isinstance(envelope, dict):
        return
    new = row_of(str(event_row["account"]), event, envelope)
    if new is None:
        return
    account, uri = new["account"], new["invitee_uri"]
    old = conn.fetchone(Q.booking_version, (account, uri))
    version = (new["snapshot_at"], new["snapshot_rank"], new["snapshot_digest"])
    if old is not None and plausible(old[0]) is not None and (old[0], old[1], old[2]) >= version:
        # An older snapshot changes nothing but may still know a reschedule link.
        _merge_links(conn, account, uri, new["old_invitee"], new["new_invitee"])
    else:
        if old is not None:
            new["old_invitee"] = new["old_invitee"] or old[3]
            new["new_invitee"] = new["new_invitee"] or old[4]
        if new["new_invitee"] is None:
            # The new side of a reschedule may have come first.
            new["new_invitee"] = conn.scalar(Q.rescheduled_to, (account, uri))
        new["rescheduled"] = new["rescheduled"] or new["new_invitee"] is not None
        conn.execute(Q.upsert_booking, [*(new[c] for c in COLUMNS), EARLIEST, LATEST])
    if new["old_invitee"]:
        conn.execute(Q.link_new_invitee, (uri, True, account, new["old_invitee"]))


def _merge_links(conn: Connection, account: str, uri: str, old_invitee: str | None, new_invitee: str | None) -> None:
    if old_invitee:
        conn.execute(Q.link_old_invitee, (old_invitee, account, uri))
    if new_invitee:
        conn.execute(Q.link_new_invitee, (new_invitee, True, account, uri))


class BookingsProjection(EventHandler):
    name = "calendly.bookings"
    tables = ("bookings",)

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        for ev in events:
            apply(conn, {"account": ev.account, "event": ev.event, "body": ev.body})
