"""Every Aircall webhook event type, with its resource family and the model of its `data`.

The list is Aircall's (API reference at developer.aircall.io, "Webhooks" / "Events"), taken from
two public transcriptions of it because the reference page itself could not be read in full: an
AsyncAPI description of the webhook surface (api-evangelist/aircall, 69 messages) and hookdeck's
Aircall webhook guide (67: the same list without team.created / team.destroyed). 69 event types.

`family` is the envelope `resource` value Aircall uses where it is known: call, user, contact,
number, team, message, integration; the newer families send conversation_intelligence,
ai_voice_agent and analytics. group_message.* events get their own family "group_message" so they
can be projected apart, but Aircall's envelope says `"resource": "message"` for them (see
EventType.resource).

SYNCED holds hookline's own pseudo-events, written by the API backfill (origin "backfill"), which
are not Aircall webhooks and so not part of CATALOG.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from hookline.providers.aircall import models as m

FAMILIES: tuple[str, ...] = (
    "call",
    "user",
    "contact",
    "number",
    "team",
    "message",
    "group_message",
    "integration",
    "conversation_intelligence",
    "ai_voice_agent",
    "analytics",
)

# Where Aircall's envelope `resource` differs from our family.
_RESOURCE_OF_FAMILY = {"group_message": "message"}


@dataclass(frozen=True)
class EventType:
    name: str
    family: str
    description: str
    model: type[msgspec.Struct] | None
    origin: str = "webhook"  # "backfill" for hookline's *.synced pseudo-events

    @property
    def resource(self) -> str:
        """The envelope `resource` value Aircall sends with this event."""
        return _RESOURCE_OF_FAMILY.get(self.family, self.family)

    @property
    def deprecated(self) -> bool:
        """User V1 events: Aircall asks integrations to move to the `.v2` variants."""
        return self.family == "user" and not self.name.endswith(".v2") and self.origin == "webhook"


_CI = "conversation_intelligence"

# (name, family, model, description): one line per event keeps the list easy to diff against Aircall's.
_EVENTS: tuple[tuple[str, str, type[msgspec.Struct] | None, str], ...] = (
    # Calls: every call event carries the whole Call object at that moment.
    ("call.created", "call", m.Call,
     "A call starts: inbound reaching an Aircall number, or outbound dialled."),
    ("call.ringing_on_agent", "call", m.Call, "An inbound call rings on an agent."),
    ("call.agent_declined", "call", m.Call, "An agent declines a ringing inbound call."),
    ("call.answered", "call", m.Call, "The call is answered by an agent (inbound) or the callee (outbound)."),
    ("call.transferred", "call", m.Call, "The call is transferred to another user or a team."),
    ("call.external_transferred", "call", m.Call, "The call is transferred to an external number."),
    ("call.unsuccessful_transfer", "call", m.Call, "A transfer attempt fails."),
    ("call.hungup", "call", m.Call, "The call ends; sent immediately, before all call data is final."),
    ("call.ended", "call", m.Call, "The call has ended and its data (duration, recording...) is final."),
    ("call.hold", "call", m.Call, "The call is put on hold."),
    ("call.unhold", "call", m.Call, "The call is taken off hold."),
    ("call.ivr_option_selected", "call", m.Call, "The caller selects an option in a Smartflows IVR."),
    ("call.comm_assets_generated", "call", m.Call,
     "Recording and voicemail files of the call are available."),
    ("call.voicemail_left", "call", m.Call, "The caller leaves a voicemail."),
    ("call.assigned", "call", m.Call, "The call is assigned to a user."),
    ("call.archived", "call", m.Call, "The call is archived (marked as done)."),
    ("call.tagged", "call", m.Call, "A tag is added to the call."),
    ("call.untagged", "call", m.Call, "A tag is removed from the call."),
    ("call.commented", "call", m.Call, "A comment (note) is added to the call."),
    # Users, V1 (deprecated by Aircall: carry the user's numbers).
    ("user.created", "user", m.User, "A user is created (invited to the company). Deprecated: use .v2."),
    ("user.deleted", "user", m.User, "A user is deleted. Deprecated: use .v2."),
    ("user.connected", "user", m.User, "A user opens the Aircall app. Deprecated: use .v2."),
    ("user.disconnected", "user", m.User, "A user closes the Aircall app. Deprecated: use .v2."),
    ("user.opened", "user", m.User, "A user becomes available (working hours). Deprecated: use .v2."),
    ("user.closed", "user", m.User, "A user becomes unavailable (working hours). Deprecated: use .v2."),
    ("user.wut_start", "user", m.User, "A user's wrap-up time starts after a call. Deprecated: use .v2."),
    ("user.wut_end", "user", m.User, "A user's wrap-up time ends. Deprecated: use .v2."),
    # Users, V2 (no `numbers`; wrap-up events may carry `last_call_id`).
    ("user.created.v2", "user", m.User, "A user is created (invited to the company)."),
    ("user.deleted.v2", "user", m.User, "A user is deleted by an admin."),
    ("user.connected.v2", "user", m.User, "A user opens the Aircall app."),
    ("user.disconnected.v2", "user", m.User, "A user closes the Aircall app."),
    ("user.opened.v2", "user", m.User, "A user becomes available according to their working hours."),
    ("user.closed.v2", "user", m.User, "A user becomes unavailable (sent twice when a substatus is set)."),
    ("user.wut_start.v2", "user", m.User, "A user's wrap-up time starts after a call."),
    ("user.wut_end.v2", "user", m.User, "A user's wrap-up time ends."),
    # Contacts.
    ("contact.created", "contact", m.Contact, "A contact is created."),
    ("contact.updated", "contact", m.Contact, "A contact is updated."),
    ("contact.deleted", "contact", m.Contact, "A contact is deleted."),
    # Numbers.
    ("number.created", "number", m.Number, "A number is added to the company."),
    ("number.deleted", "number", m.Number, "A number is deleted."),
    ("number.opened", "number", m.Number, "A number opens (business hours start). Not sent for Smartflows."),
    ("number.closed", "number", m.Number, "A number closes (business hours end). Not sent for Smartflows."),
    # Teams.
    ("team.created", "team", m.Team, "A team is created."),
    ("team.destroyed", "team", m.Team, "A team is deleted."),
    # Messaging (native messaging mode only; channel null = SMS/MMS, "whatsapp" = WhatsApp).
    ("message.sent", "message", m.Message, "A message is sent from an Aircall number."),
    ("message.received", "message", m.Message, "A message is received on an Aircall number."),
    ("message.status_updated", "message", m.Message, "The delivery status of an outbound message changes."),
    ("group_message.sent", "group_message", m.GroupMessage, "A message is sent to a group conversation."),
    ("group_message.received", "group_message", m.GroupMessage,
     "A message is received in a group conversation."),
    ("group_message.status_updated", "group_message", m.GroupMessage, "A group message's status changes."),
    # Integration (only for webhooks created by OAuth apps).
    ("integration.deleted", "integration", m.Integration,
     "The integration is uninstalled from the Aircall account."),
    # Conversation intelligence (AI Assist / AI Assist Pro add-ons).
    ("transcription.created", _CI, m.Transcription, "A call or voicemail transcription is ready."),
    ("summary.created", _CI, m.Summary, "The standard AI summary of a call is ready."),
    ("topics.created", _CI, m.Topics, "The key topics of a call are extracted."),
    ("sentiment.created", _CI, m.Sentiment, "The sentiment of each external participant is computed."),
    ("action_item.created", _CI, m.ActionItem, "Action items are extracted from a call."),
    ("playbook_result.created", _CI, m.PlaybookResult, "A playbook adherence result is created for a call."),
    ("playbook_result.updated", _CI, m.PlaybookResult, "A playbook adherence result is updated."),
    ("realtime_transcription.utterances_received", _CI, m.RealtimeTranscription,
     "Live transcription utterances arrive during a call."),
    ("custom_summary.result_created", _CI, m.CustomSummaryResult,
     "A custom (template) summary result is created."),
    ("custom_summary.result_updated", _CI, m.CustomSummaryResult,
     "A custom (template) summary result is updated."),
    ("call_evaluation.created", _CI, m.CallEvaluation, "A QA evaluation (scorecard) of a call is created."),
    ("call_evaluation.updated", _CI, m.CallEvaluation, "A QA evaluation of a call is updated."),
    # AI voice agent.
    ("ai_voice_agent.started", "ai_voice_agent", m.AiVoiceAgent, "An AI voice agent starts handling a call."),
    ("ai_voice_agent.ended", "ai_voice_agent", m.AiVoiceAgent, "An AI voice agent call ends."),
    ("ai_voice_agent.escalated", "ai_voice_agent", m.AiVoiceAgent,
     "An AI voice agent escalates the call to a human."),
    ("ai_voice_agent.summary", "ai_voice_agent", m.AiVoiceAgent,
     "An AI voice agent delivers its intake answers."),
    # Analytics exports.
    ("analytics.report_created", "analytics", m.AnalyticsReport,
     "An analytics report export is ready to download."),
    ("analytics.report_failed", "analytics", m.AnalyticsReport, "An analytics report export failed."),
)

CATALOG: dict[str, EventType] = {
    name: EventType(name=name, family=family, description=description, model=model)
    for name, family, model, description in _EVENTS
}

# hookline's backfill writes the objects it reads from Aircall's REST API as these pseudo-events.
SYNCED: dict[str, EventType] = {
    f"{family}.synced": EventType(
        name=f"{family}.synced",
        family=family,
        description=f"A {family} read from Aircall's REST API by hookline's backfill.",
        model=model,
        origin="backfill",
    )
    for family, model in (
        ("call", m.Call),
        ("user", m.User),
        ("contact", m.Contact),
        ("number", m.Number),
        ("team", m.Team),
        ("tag", m.Tag),
    )
}


def lookup(event: str) -> EventType | None:
    """The EventType of a webhook event or backfill pseudo-event, None if unknown."""
    return CATALOG.get(event) or SYNCED.get(event)


def is_known(event: str) -> bool:
    return event in CATALOG or event in SYNCED


def family_of(event: str) -> str | None:
    spec = lookup(event)
    return spec.family if spec is not None else None
