"""Lenient msgspec models of the objects Aircall webhook events carry in `data`.

Field names are Aircall's own (developer.aircall.io API reference). Every field is optional with a
default of None, `id` included even though Aircall always sends it: a stored event must stay
readable when Aircall drops or renames a field, and unknown fields are ignored (msgspec's default)
so additions never break decoding. Only a value of the wrong JSON type is an error.

Types are deliberately loose where Aircall is loose: ids are `int | str` where both occur (call ids
are integers, message ids strings, conversation-intelligence `call_id`s either), and timestamps are
`int | str` because call events carry epoch seconds while contacts and users carry ISO strings.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "ActionItem",
    "AiVoiceAgent",
    "AnalyticsReport",
    "Call",
    "CallEvaluation",
    "CiParticipant",
    "Comment",
    "Contact",
    "ContactDetail",
    "CustomSummaryResult",
    "Envelope",
    "GroupMessage",
    "Integration",
    "IvrOption",
    "MediaDetail",
    "Message",
    "Number",
    "NumberMessages",
    "Participant",
    "Playbook",
    "PlaybookResult",
    "PlaybookResultTopic",
    "RealtimeCall",
    "RealtimeTranscription",
    "RealtimeUtterance",
    "Sentiment",
    "Summary",
    "Tag",
    "Team",
    "Topics",
    "Transcription",
    "TranscriptionContent",
    "User",
    "Utterance",
    "decode_data",
]

Id = int | str
Timestamp = int | float | str  # epoch seconds on call events, ISO 8601 strings on contacts, users, messages;
# a float is taken too, so that 1e20 is decoded and then treated as absent (projections.epoch) instead of
# parking the whole snapshot


class AircallObject(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base: keyword-only, unknown fields ignored, absent fields left out when re-encoding."""


# --- Directory objects -------------------------------------------------------------------------


class NumberMessages(AircallObject):
    """Music & messages of a Number: URLs of the audio files played to callers."""

    welcome: str | None = None
    waiting: str | None = None
    ringing_tone: str | None = None
    unanswered_call: str | None = None
    after_hours: str | None = None
    ivr: str | None = None
    voicemail: str | None = None
    closed: str | None = None
    callback_later: str | None = None


class Number(AircallObject):
    """An Aircall phone number (line). `users` is only present on number.* events."""

    id: int | None = None
    direct_link: str | None = None
    name: str | None = None
    digits: str | None = None
    e164_digits: str | None = None
    created_at: Timestamp | None = None
    country: str | None = None
    time_zone: str | None = None
    open: bool | None = None
    availability_status: str | None = None  # open | custom | closed
    is_ivr: bool | None = None
    live_recording_activated: bool | None = None
    priority: int | None = None
    flow_editor_enabled: bool | None = None
    messages: NumberMessages | None = None
    users: list[User] | None = None


class User(AircallObject):
    """An Aircall user. V1 events carry `numbers`; `.v2` events omit it and may add `last_call_id`."""

    id: int | None = None
    direct_link: str | None = None
    name: str | None = None
    email: str | None = None
    created_at: Timestamp | None = None
    available: bool | None = None
    availability_status: str | None = None  # available | custom | unavailable
    substatus: str | None = None  # always_open | always_closed | the unavailability reason
    time_zone: str | None = None
    language: str | None = None
    wrap_up_time: int | None = None
    extension: str | None = None
    last_call_id: int | None = None
    numbers: list[Number] | None = None


class Team(AircallObject):
    """A team (ring group) of users."""

    id: int | None = None
    direct_link: str | None = None
    name: str | None = None
    created_at: Timestamp | None = None
    users: list[User] | None = None


class Tag(AircallObject):
    """A call tag; `color` is hexadecimal (#RRGGBB)."""

    id: int | None = None
    direct_link: str | None = None
    name: str | None = None
    color: str | None = None
    description: str | None = None


class ContactDetail(AircallObject):
    """One phone number or email of a contact."""

    id: int | None = None
    label: str | None = None
    value: str | None = None


class Contact(AircallObject):
    """A shared or personal contact. Its `created_at`/`updated_at` are ISO strings, not epochs."""

    id: int | None = None
    direct_link: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    description: str | None = None
    information: str | None = None
    is_shared: bool | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    phone_numbers: list[ContactDetail] | None = None
    emails: list[ContactDetail] | None = None


# --- Calls -------------------------------------------------------------------------------------


class Comment(AircallObject):
    """A note on a call; `posted_by` is null when it was posted through the API."""

    id: int | None = None
    content: str | None = None
    posted_at: Timestamp | None = None
    posted_by: User | None = None


class Participant(AircallObject):
    """A conference participant (`participants` on events, `conference_participants` in the API)."""

    id: Id | None = None
    type: str | None = None  # user | contact | external
    name: str | None = None
    phone_number: str | None = None


class IvrOption(AircallObject):
    """A branch the caller chose in a Smartflows IVR."""

    id: Id | None = None
    title: str | None = None
    key: str | None = None
    branch: str | None = None
    created_at: Timestamp | None = None
    transition_started_at: Timestamp | None = None
    transition_ended_at: Timestamp | None = None


class Call(AircallObject):
    """A call. Timestamps are epoch seconds; media URLs are short-lived and only set after the call."""

    id: int | None = None
    call_uuid: str | None = None  # webhook name of the API's `sid`
    sid: str | None = None
    direct_link: str | None = None
    direction: str | None = None  # inbound | outbound
    status: str | None = None  # initial | answered | done
    missed_call_reason: str | None = None
    started_at: Timestamp | None = None
    answered_at: Timestamp | None = None
    ended_at: Timestamp | None = None
    duration: int | None = None
    voicemail: str | None = None
    voicemail_short_url: str | None = None
    recording: str | None = None
    recording_short_url: str | None = None
    asset: str | None = None
    raw_digits: str | None = None
    country_code_a2: str | None = None
    cost: str | None = None
    hangup_cause: str | None = None
    archived: bool | None = None
    user: User | None = None
    contact: Contact | None = None
    number: Number | None = None
    assigned_to: User | None = None
    transferred_by: User | None = None
    transferred_to: User | None = None
    external_transferred_to: str | None = None  # call.external_transferred only
    external_caller_number: str | None = None  # call.external_transferred only
    teams: list[Team] | None = None
    tags: list[Tag] | None = None
    comments: list[Comment] | None = None
    participants: list[Participant] | None = None
    ivr_options: list[IvrOption] | None = None
    ivr_options_selected: list[IvrOption] | None = None  # name used by the call timeline API


# --- Messaging ---------------------------------------------------------------------------------


class MediaDetail(AircallObject):
    """An MMS / WhatsApp attachment with a presigned, expiring URL."""

    file_name: str | None = None
    file_type: str | None = None
    presigned_url: str | None = None


class Message(AircallObject):
    """An SMS, MMS or WhatsApp message; `channel` is null for SMS/MMS and "whatsapp" otherwise."""

    id: Id | None = None
    direct_link: str | None = None
    direction: str | None = None  # inbound | outbound
    status: str | None = None
    channel: str | None = None
    body: str | None = None
    external_number: str | None = None
    raw_digits: str | None = None
    media_url: list[str] | None = None
    media_details: list[MediaDetail] | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    sent_at: Timestamp | None = None
    template_content: str | None = None
    type: str | None = None
    parent_id: str | None = None
    whatsapp_message_category: str | None = None
    whatsapp_message_type: str | None = None
    recipient_country: str | None = None
    number: Number | None = None
    contact: Contact | None = None
    user: User | None = None


class GroupMessage(AircallObject):
    """A message in a group (MMS) conversation: recipients are a list of phone numbers."""

    id: Id | None = None
    group_message_id: str | None = None
    group_conversation_id: str | None = None
    direct_link: str | None = None
    direction: str | None = None
    status: str | None = None
    channel: str | None = None
    body: str | None = None
    participants: list[str] | None = None
    media_url: list[str] | None = None
    media_details: list[MediaDetail] | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    sent_at: Timestamp | None = None
    number: Number | None = None
    user: User | None = None


class Integration(AircallObject):
    """integration.deleted: Aircall's documented sample carries only `integration_id` and `company_id`."""

    integration_id: int | None = None
    company_id: int | None = None
    id: int | None = None
    name: str | None = None
    custom_name: str | None = None
    status: str | None = None
    active: bool | None = None


# --- Conversation intelligence -----------------------------------------------------------------


class CiParticipant(AircallObject):
    """A participant of a conversation-intelligence result (sentiment carries its `value`)."""

    participant_type: str | None = None  # internal | external | ai_voice_agent
    phone_number: str | None = None
    user_id: Id | None = None
    ai_voice_agent_id: str | None = None
    value: str | None = None  # POSITIVE | NEUTRAL | NEGATIVE (sentiment.created)


class _CiResult(AircallObject):
    """Fields shared by every post-call AI result."""

    id: Id | None = None
    call_id: Id | None = None
    call_uuid: str | None = None
    number_id: int | None = None
    type: str | None = None  # call | voicemail
    call_created_at: Timestamp | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    created_by: Id | None = None
    updated_by: Id | None = None
    ai_generated: bool | None = None
    participants: list[CiParticipant] | None = None


class Utterance(AircallObject):
    """One speaker turn; start/end are seconds from the start of the recording."""

    start_time: float | None = None
    end_time: float | None = None
    text: str | None = None
    participant_type: str | None = None
    phone_number: str | None = None
    user_id: Id | None = None
    ai_voice_agent_id: str | None = None


class TranscriptionContent(AircallObject):
    language: str | None = None
    utterances: list[Utterance] | None = None


class Transcription(_CiResult):
    """transcription.created: speaker-separated transcript."""

    content: TranscriptionContent | None = None


class Summary(_CiResult):
    """summary.created: the standard free-text summary."""

    content: str | None = None


class Topics(_CiResult):
    """topics.created: key subjects as a list of strings."""

    content: list[str] | None = None


class Sentiment(_CiResult):
    """sentiment.created: the sentiment is per participant, in `participants[].value`."""


class ActionItem(_CiResult):
    """action_item.created: a follow-up task (a list when several are sent at once)."""

    content: str | list[str] | None = None


class Playbook(AircallObject):
    id: int | None = None
    name: str | None = None
    language: str | None = None


class PlaybookResultTopic(AircallObject):
    name: str | None = None
    result: Any = None  # documented only as a placeholder: kept as raw JSON


class PlaybookResult(_CiResult):
    """playbook_result.created/updated: adherence of the call to a sales playbook."""

    adherence_score: float | None = None
    playbook: Playbook | None = None
    playbook_result_topics: list[PlaybookResultTopic] | None = None


class CustomSummaryResult(_CiResult):
    """custom_summary.result_*: a template-based summary; its field layout is template-defined."""

    template_id: Id | None = None
    template_name: str | None = None
    content: Any = None


class CallEvaluation(_CiResult):
    """call_evaluation.*: a QA scorecard result, by AI or by a supervisor."""

    scorecard_id: Id | None = None
    scorecard_name: str | None = None
    evaluation_type: str | None = None  # ai | manual
    score: float | None = None
    max_score: float | None = None
    status: str | None = None
    content: Any = None  # per-question answers; layout follows the customer's scorecard


class RealtimeCall(AircallObject):
    id: int | None = None
    uuid: str | None = None
    number_id: int | None = None
    direction: str | None = None


class RealtimeUtterance(AircallObject):
    """A live utterance; `timestamp` is epoch milliseconds."""

    participant_type: str | None = None
    user_id: Id | None = None
    timestamp: int | None = None
    duration_ms: int | None = None
    text: str | None = None
    language: str | None = None


class RealtimeTranscription(AircallObject):
    """realtime_transcription.utterances_received: provisional utterances during a live call."""

    id: Id | None = None
    call: RealtimeCall | None = None
    utterances: list[RealtimeUtterance] | None = None


# --- AI voice agent, analytics -----------------------------------------------------------------


class AiVoiceAgent(AircallObject):
    """ai_voice_agent.*: a call handled by an AI voice agent (`id` equals `call_id`)."""

    id: int | None = None
    call_id: int | None = None
    call_uuid: str | None = None
    ai_voice_agent_id: str | None = None
    ai_voice_agent_name: str | None = None
    ai_voice_agent_session_id: str | None = None
    number_id: int | None = None
    external_caller_number: str | None = None
    aircall_number: str | None = None
    created_at: Timestamp | None = None
    started_at: Timestamp | None = None
    ended_at: Timestamp | None = None
    call_end_reason: str | None = None  # answered | escalated | disconnected | caller_hung_up
    escalation_reason: str | None = None
    extracted_data: dict[str, Any] | None = None  # ai_voice_agent.summary: intake answers


class AnalyticsReport(AircallObject):
    """analytics.report_*: an export job. Aircall's export API is camelCase; the snake_case
    `download_url` seen in some payloads is accepted too."""

    exportID: str | None = None
    createdAt: Timestamp | None = None
    status: str | None = None  # PENDING | COMPLETED | FAILED
    format: str | None = None
    exportName: str | None = None
    isZipCompressed: bool | None = None
    downloadUrl: str | None = None
    downloadUrlExpiresAt: Timestamp | None = None
    errorMessage: str | None = None
    download_url: str | None = None


# --- Envelope ----------------------------------------------------------------------------------


class Envelope(AircallObject):
    """The body of every webhook POST; `data` is kept raw so it can be decoded per event type.

    `data` is an empty Raw when absent: msgspec cannot put Raw in a union (`Raw | None` only
    accepts JSON null), so "optional" is spelled as an empty default. Pass it to decode_data as is.
    """

    resource: str | None = None
    event: str | None = None
    timestamp: int | float | None = None
    token: str | None = None
    data: msgspec.Raw = msgspec.Raw()


_decoders: dict[type[msgspec.Struct], msgspec.json.Decoder[Any]] = {}


def decode_data(event: str, data: bytes) -> msgspec.Struct | None:
    """Decode an event's `data` with the catalog's model for `event`.

    Returns None for an unknown event, an event without a model, empty `data` (absent from the
    envelope) or a JSON `null`. Raises only msgspec errors (DecodeError for malformed JSON,
    ValidationError for a value of the wrong type).
    """
    if not data:
        return None
    from hookline.providers.aircall.catalog import lookup  # catalog imports this module

    spec = lookup(event)
    if spec is None or spec.model is None:
        return None
    decoder = _decoders.get(spec.model)
    if decoder is None:
        decoder = _decoders[spec.model] = msgspec.json.Decoder(spec.model | None)
    result: msgspec.Struct | None = decoder.decode(data)
    return result
