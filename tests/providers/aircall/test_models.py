"""Models decode every sample, ignore what they do not know and never fail on what is missing."""

from __future__ import annotations

import contextlib
import json
import random
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookline.providers.aircall import models as m
from hookline.providers.aircall.catalog import CATALOG, SYNCED
from hookline.providers.aircall.models import Envelope, decode_data
from hookline.testing.aircall.samples import (
    make_call,
    make_contact,
    make_number,
    make_user,
    sample_event,
)

ALL_EVENTS = [*CATALOG, *SYNCED]


def _decode(event: str, **kwargs: Any) -> Any:
    body = sample_event(event, **kwargs)
    return decode_data(event, msgspec.json.encode(body["data"]))


@pytest.mark.parametrize("event", ALL_EVENTS)
def test_every_sample_decodes_with_its_model(event: str) -> None:
    body = sample_event(event, token="secret", timestamp=1_735_000_000)
    spec = CATALOG.get(event) or SYNCED[event]
    assert body["event"] == event
    assert body["resource"] == spec.resource
    assert body["token"] == "secret" and body["timestamp"] == 1_735_000_000

    raw = msgspec.json.encode(body)
    env = msgspec.json.decode(raw, type=Envelope)
    assert env.event == event and env.token == "secret" and len(env.data) > 0
    obj = decode_data(event, bytes(env.data))
    assert spec.model is not None and isinstance(obj, spec.model)
    # Nothing the sample carries is lost: re-encoding gives back the same JSON.
    assert msgspec.json.decode(msgspec.json.encode(obj)) == _without_nulls(body["data"])


def _without_nulls(value: Any) -> Any:
    """omit_defaults drops None fields when re-encoding; compare on that basis."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


@pytest.mark.parametrize("event", ALL_EVENTS)
def test_samples_are_deterministic(event: str) -> None:
    assert sample_event(event) == sample_event(event)
    assert sample_event(event, rng=random.Random(7)) == sample_event(event, rng=random.Random(7))
    # The rng drives the content: another seed, another payload.
    assert sample_event(event, rng=random.Random(1)) != sample_event(event, rng=random.Random(2))


def test_call_lifecycle_values() -> None:
    created = _decode("call.created")
    assert isinstance(created, m.Call)
    assert created.status == "initial" and created.answered_at is None and created.ended_at is None
    assert created.direct_link == f"https://api.aircall.io/v1/calls/{created.id}"

    answered = _decode("call.answered")
    assert answered.status == "answered"
    assert isinstance(answered.started_at, int) and isinstance(answered.answered_at, int)
    assert answered.answered_at > answered.started_at
    assert answered.user is not None and answered.user.email and answered.user.email.endswith("@example.com")

    ended = _decode("call.ended")
    assert ended.status == "done" and ended.duration == ended.ended_at - ended.started_at > 0
    assert ended.recording and ended.recording.startswith("https://") and ".mp3" in ended.recording
    assert ended.asset and ended.number is not None and ended.number.digits
    assert ended.number.time_zone and "/" in ended.number.time_zone
    assert ended.direction in ("inbound", "outbound")

    voicemail = _decode("call.voicemail_left")
    assert voicemail.voicemail and voicemail.answered_at is None
    assert voicemail.missed_call_reason == "agents_did_not_answer"

    transferred = _decode("call.transferred")
    assert transferred.transferred_by is not None and transferred.transferred_to is not None
    assert transferred.transferred_by.id != transferred.transferred_to.id

    external = _decode("call.external_transferred")
    assert external.external_transferred_to and external.external_transferred_to.startswith("+")

    tagged = _decode("call.tagged")
    assert tagged.tags and all(t.name and t.color and t.color.startswith("#") for t in tagged.tags)

    commented = _decode("call.commented")
    assert commented.comments and commented.comments[0].content
    assert commented.comments[0].posted_by is not None

    assert _decode("call.archived").archived is True
    assert _decode("call.assigned").assigned_to is not None
    ivr = _decode("call.ivr_option_selected")
    assert ivr.ivr_options and ivr.ivr_options[0].key in ("1", "2", "3")


def test_user_values() -> None:
    v1 = _decode("user.created")
    assert isinstance(v1, m.User) and v1.numbers and v1.numbers[0].digits
    v2 = _decode("user.created.v2")
    assert v2.numbers is None  # V2 user events do not carry numbers
    closed = _decode("user.closed.v2")
    assert closed.availability_status == "unavailable" and closed.available is False
    assert closed.substatus in ("Out for lunch", "On a break", "In training", "Back office", "Other")
    assert _decode("user.wut_start.v2").last_call_id is not None
    assert _decode("user.opened").availability_status == "available"


def test_contact_number_team_values() -> None:
    contact = _decode("contact.updated")
    assert isinstance(contact, m.Contact)
    assert contact.phone_numbers and (contact.phone_numbers[0].value or "").startswith("+")
    assert contact.emails and contact.emails[0].value and "@" in contact.emails[0].value
    assert isinstance(contact.updated_at, str) and contact.updated_at.endswith("Z")

    closed = _decode("number.closed")
    assert isinstance(closed, m.Number) and closed.open is False and closed.availability_status == "closed"
    assert closed.users and closed.users[0].name
    assert _decode("number.opened").open is True

    team = _decode("team.destroyed")
    assert isinstance(team, m.Team) and team.name and team.users
    assert _decode("team.created").users == []


def test_messaging_values() -> None:
    received = _decode("message.received")
    assert isinstance(received, m.Message)
    assert received.direction == "inbound" and received.status == "received" and received.body
    assert received.channel in (None, "whatsapp") and isinstance(received.id, str)
    assert _decode("message.status_updated").status == "delivered"
    group = _decode("group_message.sent")
    assert isinstance(group, m.GroupMessage)
    assert group.group_conversation_id and group.participants and len(group.participants) >= 2


def test_conversation_intelligence_values() -> None:
    tr = _decode("transcription.created")
    assert isinstance(tr, m.Transcription) and tr.content is not None and tr.content.utterances
    first, *rest = tr.content.utterances
    assert first.text and first.participant_type == "internal" and first.user_id is not None
    assert all((u.start_time or 0) < (u.end_time or 0) for u in tr.content.utterances)
    assert any(u.participant_type == "external" and u.phone_number for u in rest)

    sentiment = _decode("sentiment.created")
    assert isinstance(sentiment, m.Sentiment) and sentiment.participants
    assert sentiment.participants[0].value in ("POSITIVE", "NEUTRAL", "NEGATIVE")

    topics = _decode("topics.created")
    assert isinstance(topics, m.Topics) and topics.content and all(isinstance(t, str) for t in topics.content)
    assert isinstance(_decode("summary.created").content, str)
    assert isinstance(_decode("action_item.created").content, str)

    playbook = _decode("playbook_result.updated")
    assert isinstance(playbook, m.PlaybookResult) and playbook.playbook is not None
    assert playbook.adherence_score is not None and 0 <= playbook.adherence_score <= 1
    assert playbook.updated_by is not None

    evaluation = _decode("call_evaluation.created")
    assert isinstance(evaluation, m.CallEvaluation)
    assert evaluation.score is not None and evaluation.max_score and evaluation.score <= evaluation.max_score

    custom = _decode("custom_summary.result_created")
    assert isinstance(custom, m.CustomSummaryResult) and isinstance(custom.content, list)

    live = _decode("realtime_transcription.utterances_received")
    assert isinstance(live, m.RealtimeTranscription) and live.call is not None and live.call.uuid
    assert live.utterances and live.utterances[0].duration_ms


def test_ai_voice_agent_and_analytics_values() -> None:
    ended = _decode("ai_voice_agent.ended")
    assert isinstance(ended, m.AiVoiceAgent) and ended.id == ended.call_id
    assert ended.call_end_reason in ("answered", "disconnected", "caller_hung_up")
    assert _decode("ai_voice_agent.escalated").escalation_reason
    summary = _decode("ai_voice_agent.summary")
    assert summary.extracted_data and "caller_name" in summary.extracted_data

    report = _decode("analytics.report_created")
    assert isinstance(report, m.AnalyticsReport) and report.status == "COMPLETED"
    assert report.downloadUrl and report.downloadUrl.startswith("https://")
    failed = _decode("analytics.report_failed")
    assert failed.status == "FAILED" and failed.errorMessage and failed.downloadUrl is None

    integration = _decode("integration.deleted")
    assert isinstance(integration, m.Integration) and integration.integration_id and integration.company_id


def test_overrides() -> None:
    body = sample_event("call.ended", id=42, status="done", resource="calls")
    assert body["data"]["id"] == 42 and body["resource"] == "calls"
    body = sample_event("contact.deleted", data={"id": 7})
    assert body["data"] == {"id": 7}
    with pytest.raises(KeyError):
        sample_event("call.exploded")


def test_builders_compose() -> None:
    rng = random.Random(3)
    user = make_user(rng, 11)
    number = make_number(rng, 22, users=[user])
    contact = make_contact(rng, 33)
    call = make_call(rng, 44, user=user, number=number, contact=contact, status="done", direction="outbound")
    decoded = msgspec.convert(call, m.Call)
    assert decoded.id == 44 and decoded.direction == "outbound" and decoded.status == "done"
    assert decoded.user is not None and decoded.user.id == 11
    assert decoded.number is not None and decoded.number.id == 22 and decoded.number.users is None
    assert decoded.contact is not None and decoded.contact.id == 33
    assert decoded.raw_digits == contact["phone_numbers"][0]["value"]
    missed_call = make_call(rng, 45, user=None, number=number, contact=None, answered=False)
    missed = msgspec.convert(missed_call, m.Call)
    assert missed.answered_at is None and missed.missed_call_reason and missed.user is None


def test_unknown_fields_are_ignored() -> None:
    data = {"id": 1, "status": "done", "brand_new_field": {"nested": [1, 2]},
            "user": {"id": 2, "shiny": True}, "tags": [{"id": 3, "name": "Lead", "emoji": "x"}]}
    call = decode_data("call.ended", json.dumps(data).encode())
    assert isinstance(call, m.Call)
    assert call.id == 1 and call.user is not None and call.user.id == 2
    assert call.tags is not None and call.tags[0].name == "Lead"


@pytest.mark.parametrize("event", ALL_EVENTS)
def test_missing_fields_are_none(event: str) -> None:
    obj = decode_data(event, b"{}")
    assert obj is not None
    assert all(getattr(obj, f) is None for f in obj.__struct_fields__)


def test_decode_data_edges() -> None:
    assert decode_data("call.nonexistent", b'{"id": 1}') is None
    assert decode_data("call.ended", b"null") is None
    assert decode_data("call.ended", b"") is None
    with pytest.raises(msgspec.ValidationError):
        decode_data("call.ended", b'{"id": {"not": "an id"}}')
    with pytest.raises(msgspec.DecodeError):
        decode_data("call.ended", b"{not json")


def test_envelope_is_lenient() -> None:
    env = msgspec.json.decode(b'{"surprise": 1}', type=Envelope)
    assert env.event is None and env.resource is None and bytes(env.data) == b""
    assert decode_data("call.ended", bytes(env.data)) is None
    env = msgspec.json.decode(b'{"event": "call.ended", "data": {"id": 5}}', type=Envelope)
    call = decode_data("call.ended", bytes(env.data))
    assert isinstance(call, m.Call) and call.id == 5


_json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(max_size=20)
_json = st.recursive(_json_scalars, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=25)
# Keys Aircall really uses, so that generated objects hit typed fields and not only unknown ones.
_keys = st.sampled_from(sorted({f for spec in CATALOG.values() if spec.model is not None
                                for f in spec.model.__struct_fields__})) | st.text(max_size=12)
_objects = st.dictionaries(_keys, _json, max_size=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=st.sampled_from(ALL_EVENTS), obj=_objects)
def test_decode_data_only_raises_msgspec_errors(event: str, obj: dict[str, Any]) -> None:
    # A wrong JSON type for a known field is a ValidationError; anything else escaping is a bug.
    with contextlib.suppress(msgspec.ValidationError):
        decode_data(event, json.dumps(obj).encode())
