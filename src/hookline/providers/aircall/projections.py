"""Aircall projections: calls (with timeline and conversation intelligence), users, contacts,
numbers, teams, tags and messages, from the event log.

Each event is decoded with the catalog's model and turned into versioned rows (see
pipeline/versioned.py and ranks.py): the stored state of a resource is its snapshot with the
greatest (timestamp, lifecycle rank, digest), so any order of any number of deliveries gives the
same tables. Unknown event types are skipped (stored in the log; a `rebuild` after an upgrade
projects them); a payload of the wrong shape is Unprocessable (its job is parked with the error).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from hookline.pipeline.handlers import EventHandler, StoredEvent, Unprocessable
from hookline.pipeline.versioned import VersionedColumns, digest, insert_many
from hookline.providers.aircall import catalog, nested, ranks, rollup_batches, wrap_ups
from hookline.providers.aircall import models as m
from hookline.store.engine import Connection
from hookline.timeparse import optional_time, plausible

KEY = ("account", "id")

CALLS = VersionedColumns(
    "aircall_calls",
    KEY,
    (
        "call_uuid", "direction", "status", "started_at", "answered_at", "ended_at", "duration",
        "missed_call_reason", "raw_digits", "archived", "user_id", "number_id", "contact_id",
        "has_recording", "has_voicemail", "last_event", "data", "user_part", "number_part", "contact_part",
    ),  # the nested objects only in data, its user, number and contact apart, once each: nested.py
)
INTELLIGENCE = VersionedColumns(
    "aircall_call_intelligence",
    ("account", "kind", "result_id"),
    ("call_id", "event", "timestamp", "data"),
)
USER_PROFILE = VersionedColumns(
    "aircall_users",
    KEY,
    ("name", "email", "available", "availability_status", "substatus", "time_zone", "language",
     "wrap_up_time", "created_at", "deleted", "data"),
)
USER_PRESENCE = VersionedColumns(
    "aircall_users", KEY, ("connected",), ("connected_ts", "connected_rank", "connected_key")
)
USER_WRAP_UP = VersionedColumns("aircall_users", KEY, ("in_wrap_up",), ("wrap_up_ts", "wrap_up_rank", "wrap_up_key"))
USER_SEEN = VersionedColumns("aircall_users", KEY, ("seen_name", "seen_email"), ("last_seen", "seen_rank", "seen_key"))
CONTACTS = VersionedColumns(
    "aircall_contacts",
    KEY,
    ("first_name", "last_name", "company_name", "description", "information", "is_shared",
     "phone_numbers", "emails", "created_at", "updated_at", "deleted", "data"),
)
NUMBERS = VersionedColumns(
    "aircall_numbers",
    KEY,
    ("name", "digits", "e164_digits", "country", "time_zone", "open", "availability_status", "is_ivr",
     "live_recording_activated", "priority", "users", "created_at", "deleted", "data"),
)
TEAMS = VersionedColumns("aircall_teams", KEY, ("name", "users", "created_at", "deleted", "data"))
TAGS = VersionedColumns("aircall_tags", KEY, ("name", "color", "description", "data"))
MESSAGES = VersionedColumns(
    "aircall_messages",
    KEY,
    ("kind", "direction", "status", "channel", "body", "external_number", "raw_digits", "number_id",
     "contact_id", "user_id", "participants", "media_details", "created_at", "sent_at", "updated_at",
     "last_event", "data"),
)
TIMELINE_COLUMNS = ("account", "call_id", "event", "timestamp", "event_id")
GROUPS = (CALLS, INTELLIGENCE, USER_PROFILE, USER_PRESENCE, USER_WRAP_UP, USER_SEEN, CONTACTS, NUMBERS, TEAMS,
          TAGS, MESSAGES)
TABLES = (
    "aircall_calls", "aircall_call_parts", "aircall_call_timeline", "aircall_call_intelligence", "aircall_users",
    "aircall_contacts", "aircall_numbers", "aircall_teams", "aircall_tags", "aircall_messages",
    "aircall_wrap_up_events", "aircall_wrap_up_days",
)

_envelope = msgspec.json.Decoder(m.Envelope).decode
_encode = msgspec.json.encode


def js(value: Any) -> str | None:
    """Nested Aircall objects as JSON text (absent fields left out)."""
    return None if value is None else _encode(value).decode()


def epoch(value: int | float | str | None) -> float | None:
    """Aircall times (epoch seconds on calls, ISO strings elsewhere) as unix seconds; None when
    absent or not a plausible time (1e20, a NaN, milliseconds sent as seconds: timeparse.plausible)."""
    return optional_time(value)


MAX_COUNT = 2**31 - 1  # durations, priorities, wrap-up times: beyond this a value is hostile, not data


def count(value: int | None) -> int | None:
    """A non-negative integer field (seconds, a priority) or None: 2**200 would overflow the column
    and park the whole event; a negative duration is no duration."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT else None


def as_id(value: int | str | None) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


@dataclass
class Rows:
    """What one batch writes, by target."""

    groups: dict[VersionedColumns, list[tuple[Any, ...]]] = field(default_factory=dict)
    timeline: list[tuple[Any, ...]] = field(default_factory=list)
    wrap_ups: list[wrap_ups.WrapUp] = field(default_factory=list)
    parts: dict[tuple[str, int], str] = field(default_factory=dict)  # nested.py: (account, id) -> JSON

    def add(self, group: VersionedColumns, row: tuple[Any, ...]) -> None:
        self.groups.setdefault(group, []).append(row)

    def write(self, conn: Connection) -> None:
        if self.parts:  # content-addressed: the same row whoever writes it first
            insert_many(conn, "aircall_call_parts", ("account", "id", "value"),
                        [(*key, value) for key, value in sorted(self.parts.items())],
                        "ON CONFLICT (account, id) DO NOTHING")
        for group in GROUPS:  # a fixed order of tables: the same lock order in every worker
            rows = self.groups.get(group)
            if not rows:
                continue
            if group is CALLS:
                with rollup_batches.batched(conn):  # the rollups summed once per batch
                    group.write(conn, rows)
            else:
                group.write(conn, rows)
        if self.timeline:
            unique = {(r[0], r[1], r[4]): r for r in self.timeline}
            insert_many(conn, "aircall_call_timeline", TIMELINE_COLUMNS, [unique[k] for k in sorted(unique)],
                        "ON CONFLICT (account, call_id, event_id) DO NOTHING")
        if self.wrap_ups:  # last: its per-agent locks come after every row lock above
            wrap_ups.write(conn, self.wrap_ups)


@dataclass(frozen=True, slots=True)
class Ctx:
    """One event, decoded: what every projection needs besides the data itself."""

    account: str
    event: str
    ts: float
    data: bytes
    digest: str
    event_id: int
    occurred_at: float | None  # the log's, which orders wrap-ups (wrap_ups.py)


class AircallProjections(EventHandler):
    name = "aircall.projections"
    tables = TABLES

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        rows = Rows()
        for ev in events:
            project(ev, rows)
        rows.write(conn)


def project(ev: StoredEvent, rows: Rows) -> None:
    """Add the rows one event contributes."""
    spec = catalog.lookup(ev.event)
    if spec is None:
        return
    try:
        env = _envelope(ev.body)
        data = bytes(env.data)
        obj = m.decode_data(ev.event, data)
    except msgspec.MsgspecError as exc:
        raise Unprocessable(f"{ev.event} event {ev.id}: {exc}") from exc
    if obj is None:
        return
    # The snapshot's version: the envelope's timestamp, else when it was received (an implausible one,
    # stored before the receiver refused them, must never outrank every later snapshot).
    ts = plausible(env.timestamp)
    if ts is None:
        ts = plausible(ev.occurred_at)
    if ts is None:
        ts = ev.received_at
    ctx = Ctx(ev.account, ev.event, ts, data, digest(data), ev.id, ev.occurred_at)
    project_one = _BY_FAMILY.get(spec.family)
    if project_one is not None:
        project_one(ctx, obj, rows)


# --- per family ------------------------------------------------------------------------------


def _call(ctx: Ctx, call: Any, rows: Rows) -> None:
    assert isinstance(call, m.Call)
    if call.id is None:
        raise Unprocessable(f"{ctx.event} event {ctx.event_id}: call without id")
    synced = ctx.event.endswith(".synced")
    rank = ranks.synced_call_rank(call.status) if synced else ranks.rank(ranks.CALL, ctx.event, default=50)
    user = call.user
    stored = nested.split(ctx.data)
    rows.parts.update(((ctx.account, pid), value) for pid, value in stored.parts)
    rows.add(CALLS, (
        ctx.account, call.id, call.call_uuid or call.sid, call.direction, call.status, epoch(call.started_at),
        epoch(call.answered_at), epoch(call.ended_at), count(call.duration), call.missed_call_reason,
        call.raw_digits, call.archived, user.id if user else None, call.number.id if call.number else None,
        call.contact.id if call.contact else None, bool(call.recording or call.recording_short_url),
        bool(call.voicemail or call.voicemail_short_url), ctx.event, stored.data, *stored.refs,
        ctx.ts, rank, ctx.digest,
    ))
    if not synced:
        rows.timeline.append((ctx.account, call.id, ctx.event, ctx.ts, ctx.event_id))
    if user is not None and user.id is not None:
        rows.add(USER_SEEN, (ctx.account, user.id, user.name, user.email, ctx.ts, rank, ctx.digest))
    for tag in call.tags or ():
        if tag.id is not None:
            raw = _encode(tag)
            rows.add(TAGS, (ctx.account, tag.id, tag.name, tag.color, tag.description, raw.decode(),
                            ctx.ts, rank, digest(raw)))


_PRESENCE = {"user.connected": True, "user.disconnected": False}
_WRAP_UP = {"user.wut_start": True, "user.wut_end": False}


def _user(ctx: Ctx, user: Any, rows: Rows) -> None:
    assert isinstance(user, m.User)
    if user.id is None:
        raise Unprocessable(f"{ctx.event} event {ctx.event_id}: user without id")
    base = ctx.event.removesuffix(".v2")
    rank = ranks.rank(ranks.USER, ctx.event)
    key = (ctx.account, user.id)
    rows.add(USER_PROFILE, (
        *key, user.name, user.email, user.available, user.availability_status, user.substatus,
        user.time_zone, user.language, count(user.wrap_up_time), epoch(user.created_at),
        base == "user.deleted", ctx.data.decode(), ctx.ts, rank, ctx.digest,
    ))
    if base in _PRESENCE:
        rows.add(USER_PRESENCE, (*key, _PRESENCE[base], ctx.ts, rank, ctx.digest))
    if base in _WRAP_UP:
        rows.add(USER_WRAP_UP, (*key, _WRAP_UP[base], ctx.ts, rank, ctx.digest))
        if ctx.occurred_at is not None:  # the log's pairing never saw events without a time
            rows.wrap_ups.append(wrap_ups.WrapUp(ctx.account, str(user.id), ctx.occurred_at, ctx.event_id,
                                                 _WRAP_UP[base]))
    if not ctx.event.endswith(".synced"):  # a backfill read is not a sign of life
        rows.add(USER_SEEN, (*key, user.name, user.email, ctx.ts, rank, ctx.digest))


def _contact(ctx: Ctx, c: Any, rows: Rows) -> None:
    assert isinstance(c, m.Contact)
    if c.id is None:
        raise Unprocessable(f"{ctx.event} event {ctx.event_id}: contact without id")
    rows.add(CONTACTS, (
        ctx.account, c.id, c.first_name, c.last_name, c.company_name, c.description, c.information,
        c.is_shared, js(c.phone_numbers), js(c.emails), epoch(c.created_at), epoch(c.updated_at),
        ctx.event == "contact.deleted", ctx.data.decode(), ctx.ts, ranks.rank(ranks.CONTACT, ctx.event),
        ctx.digest,
    ))


def _number(ctx: Ctx, n: Any, rows: Rows) -> None:
    assert isinstance(n, m.Number)
    if n.id is None:
        raise Unprocessable(f"{ctx.event} event {ctx.event_id}: number without id")
    rows.add(NUMBERS, (
        ctx.account, n.id, n.name, n.digits, n.e164_digits, n.country, n.time_zone, n.open,
        n.availability_status, n.is_ivr, n.live_recording_activated, count(n.priority), js(n.users),
        epoch(n.created_at), ctx.event == "number.deleted", ctx.data.decode(), ctx.ts,
        ranks.rank(ranks.NUMBER, ctx.event), ctx.digest,
    ))


def _team(ctx: Ctx, t: Any, rows: Rows) -> None:
    assert isinstance(t, m.Team)
    if t.id is None:
        raise Unprocessable(f"{ctx.event} event {ctx.event_id}: team without id")
    rows.add(TEAMS, (
        ctx.account, t.id, t.name, js(t.users), epoch(t.created_at), ctx.event == "team.destroyed",
        ctx.data.decode(), ctx.ts, ranks.rank(ranks.TEAM, ctx.event), ctx.digest,
    ))


def _tag(ctx: Ctx, t: Any, rows: Rows) -> None:
    assert isinstance(t, m.Tag)
    if t.id is None:
        raise Unprocessable(f"{ctx.event} event {ctx.event_id}: tag without id")
    rows.add(TAGS, (ctx.account, t.id, t.name, t.color, t.description, ctx.data.decode(), ctx.ts,
                    ranks.SYNCED, ctx.digest))


def _message(ctx: Ctx, msg: Any, rows: Rows) -> None:
    assert isinstance(msg, m.Message | m.GroupMessage)
    if msg.id is None:
        raise Unprocessable(f"{ctx.event} event {ctx.event_id}: message without id")
    single = isinstance(msg, m.Message)
    contact = msg.contact if isinstance(msg, m.Message) else None
    rows.add(MESSAGES, (
        ctx.account, str(msg.id), "message" if single else "group_message", msg.direction, msg.status,
        msg.channel, msg.body, msg.external_number if isinstance(msg, m.Message) else None,
        msg.raw_digits if isinstance(msg, m.Message) else None, msg.number.id if msg.number else None,
        contact.id if contact else None, msg.user.id if msg.user else None,
        js(msg.participants) if isinstance(msg, m.GroupMessage) else None, js(msg.media_details),
        epoch(msg.created_at), epoch(msg.sent_at), epoch(msg.updated_at), ctx.event, ctx.data.decode(),
        ctx.ts, ranks.message_rank(ctx.event, msg.status), ctx.digest,
    ))


def _intelligence(ctx: Ctx, result: Any, rows: Rows) -> None:
    kind = ctx.event.split(".", 1)[0]
    if isinstance(result, m.RealtimeTranscription):
        call_id = as_id(result.call.id) if result.call else None
    else:
        call_id = as_id(getattr(result, "call_id", None))
    result_id = getattr(result, "id", None)
    # Without an id of its own, a result is one per call and kind (or, lacking both, this very event).
    rid = str(result_id) if result_id is not None else (f"call:{call_id}" if call_id else f"d:{ctx.digest}")
    rows.add(INTELLIGENCE, (ctx.account, kind, rid, call_id, ctx.event, ctx.ts, ctx.data.decode(), ctx.ts,
                            ranks.result_rank(ctx.event), ctx.digest))
    if call_id is not None:
        rows.timeline.append((ctx.account, call_id, ctx.event, ctx.ts, ctx.event_id))


def _ai_voice_agent(ctx: Ctx, a: Any, rows: Rows) -> None:
    assert isinstance(a, m.AiVoiceAgent)
    call_id = as_id(a.call_id) or as_id(a.id)
    if call_id is not None:
        rows.timeline.append((ctx.account, call_id, ctx.event, ctx.ts, ctx.event_id))


_BY_FAMILY = {
    "call": _call,
    "user": _user,
    "contact": _contact,
    "number": _number,
    "team": _team,
    "tag": _tag,
    "message": _message,
    "group_message": _message,
    "conversation_intelligence": _intelligence,
    "ai_voice_agent": _ai_voice_agent,
}
