"""The Aircall API's JSON shapes: what /api/calls, /api/agents, ..., /api/messages and the recordings
archive answer, one Struct each (web/shapes.py says how rows become them and how the OpenAPI document
is made from them). A new field goes here and in its SELECT (queries.sql)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from hookline.providers.aircall.recordings import KINDS, STATES
from hookline.web.shapes import Count, Unix, page_shape

_Obj = dict[str, Any] | None  # an Aircall object as it was sent (user, number, contact...)
_List = list[Any] | None


def _enum(*values: str) -> Any:
    return msgspec.Meta(extra_json_schema={"enum": list(values)})


class Call(msgspec.Struct):
    """A call's latest state (aircall_calls)."""

    account: str
    id: int
    call_uuid: str | None
    direction: str | None
    status: Annotated[str | None, msgspec.Meta(description="initial, answered or done")]
    started_at: Unix | None
    answered_at: Unix | None
    ended_at: Unix | None
    duration: int | None
    missed_call_reason: str | None
    raw_digits: str | None
    archived: bool | None
    user: _Obj
    number: _Obj
    contact: _Obj
    assigned_to: _Obj
    teams: _List
    tags: _List
    comments: _List
    transferred_by: _Obj
    transferred_to: _Obj
    participants: _List
    has_recording: bool
    has_voicemail: bool
    last_event: str


class Agent(msgspec.Struct):
    """An Aircall user and their state."""

    account: str
    id: int
    name: str | None
    email: str | None
    available: bool | None
    availability_status: str | None
    substatus: str | None
    time_zone: str | None
    language: str | None
    wrap_up_time: int | None
    deleted: bool
    connected: bool | None
    in_wrap_up: bool | None
    last_seen: Unix | None
    current_call_id: Annotated[int | None, msgspec.Meta(description="the agent's latest call not done yet")]


class Contact(msgspec.Struct):
    account: str
    id: int
    first_name: str | None
    last_name: str | None
    company_name: str | None
    description: str | None
    information: str | None
    is_shared: bool | None
    phone_numbers: _List
    emails: _List
    created_at: Unix | None
    updated_at: Unix | None
    deleted: bool


class Number(msgspec.Struct):
    """An Aircall phone number."""

    account: str
    id: int
    name: str | None
    digits: str | None
    e164_digits: str | None
    country: str | None
    time_zone: str | None
    open: bool | None
    availability_status: str | None
    is_ivr: bool | None
    live_recording_activated: bool | None
    priority: int | None
    users: _List
    created_at: Unix | None
    deleted: bool


class Team(msgspec.Struct):
    account: str
    id: int
    name: str | None
    users: _List
    created_at: Unix | None
    deleted: bool


class Tag(msgspec.Struct):
    account: str
    id: int
    name: str | None
    color: str | None
    description: str | None


class Message(msgspec.Struct):
    """An SMS, WhatsApp or group message."""

    account: str
    id: str
    kind: str
    direction: str | None
    status: str | None
    channel: str | None
    body: str | None
    external_number: str | None
    raw_digits: str | None
    number_id: int | None
    contact_id: int | None
    user_id: int | None
    participants: _List
    media_details: Any
    created_at: Unix | None
    sent_at: Unix | None
    updated_at: Unix | None
    last_event: str


class TimelineEntry(msgspec.Struct):
    event: str
    timestamp: Unix | None
    event_id: int


class AIResult(msgspec.Struct):
    """One AI result of a call (transcription, summary, sentiment, topics...)."""

    result_id: str
    event: str
    timestamp: Unix | None
    data: Any


class ArchiveDetail(msgspec.Struct):
    """An archive row as a call shows it."""

    state: Annotated[str, _enum(*STATES)]
    path: str | None
    size: int | None
    sha256: str | None
    archived_at: Unix | None
    attempts: int
    last_error: str | None


Archive = msgspec.defstruct("Archive", [(kind, ArchiveDetail | None) for kind in KINDS], module=__name__)


def _optional(t: Any) -> Any:
    return t | UnsetType


# Events or AI results may arrive before the call itself: then only the key and the fields after
# `data` are there (the others are left out, not null).
_KEY = ("account", "id")
_KNOWN = "false: events or results arrived, the call itself not yet"
CallDetail: type[msgspec.Struct] = msgspec.defstruct(
    "CallDetail",
    [
        ("account", str | None),
        ("id", int),
        *((f.name, _optional(f.type), UNSET) for f in msgspec.structs.fields(Call) if f.name not in _KEY),
        ("data", _optional(Annotated[dict[str, Any], msgspec.Meta(description="the call as Aircall last sent it")]),
         UNSET),
        ("known", Annotated[bool, msgspec.Meta(description=_KNOWN)]),
        *((f"{kind}_archived",
           Annotated[bool, msgspec.Meta(description=f"the {kind} is on disk: GET /api/calls/{{id}}/{kind}")])
          for kind in KINDS),
        ("archive", Archive),
        ("timeline", list[TimelineEntry]),
        ("intelligence", Annotated[dict[str, list[AIResult]], msgspec.Meta(description="AI results by kind")]),
    ],
    kw_only=True,
    module=__name__,
)  # fmt: skip


class Recording(msgspec.Struct):
    """A row of the recordings archive."""

    id: int
    account: str
    call_id: int
    kind: Annotated[str, _enum(*KINDS)]
    started_at: Unix | None
    state: Annotated[str, _enum(*STATES)]
    run_at: Annotated[Unix, msgspec.Meta(description="not before: the end of a backoff or of a lease")]
    attempts: int
    last_error: str | None
    path: Annotated[str | None, msgspec.Meta(description="relative to HOOKLINE_RECORDINGS_DIR")]
    size: int | None
    sha256: str | None
    archived_at: Unix | None
    created_at: Unix
    updated_at: Unix


RecordingCounts = msgspec.defstruct("RecordingCounts", [(state, Count) for state in STATES], module=__name__)
RecordingsPage = msgspec.defstruct(
    "RecordingsPage",
    [("recordings", list[Recording]), ("counts", RecordingCounts), ("next_cursor", str | None)],
    module=__name__,
)


class Verified(msgspec.Struct):
    """One archived file checked against its row."""

    id: int
    account: str
    call_id: int
    kind: Annotated[str, _enum(*KINDS)]
    path: str
    result: Annotated[str, _enum("ok", "missing", "damaged")]
    detail: Annotated[str | None, msgspec.Meta(description="what is wrong, when something is")]
    requeued: Annotated[bool, msgspec.Meta(description="queued for the archiver to download again")]


CallsPage = page_shape("CallsPage", "calls", Call)
AgentsPage = page_shape("AgentsPage", "agents", Agent)
ContactsPage = page_shape("ContactsPage", "contacts", Contact)
NumbersPage = page_shape("NumbersPage", "numbers", Number)
TeamsPage = page_shape("TeamsPage", "teams", Team)
TagsPage = page_shape("TagsPage", "tags", Tag)
MessagesPage = page_shape("MessagesPage", "messages", Message)
