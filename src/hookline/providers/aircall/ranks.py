"""Lifecycle ranks: which of two snapshots with the same timestamp is the later one.

Aircall's timestamps are whole seconds, so several events of one resource often share one. Within
a second the lifecycle decides (a call is created, rings, is answered, hung up, ended, then tagged or
commented); `*.synced` snapshots (read by the backfill from the REST API) rank below every webhook,
so they fill gaps but never override a webhook snapshot of the same second, let alone a newer one;
except a finished call: its status says it is final, so it ranks as `call.ended` (and synced.py stamps
it no earlier than its ended_at), above every snapshot taken while the call was under way.
Deletions rank above everything: nothing of the same second resurrects a deleted resource.
"""

from __future__ import annotations

SYNCED = 0
DELETED = 100

CALL: dict[str, int] = {
    "call.created": 10,
    "call.ivr_option_selected": 15,
    "call.ringing_on_agent": 20,
    "call.agent_declined": 30,
    "call.answered": 40,
    "call.hold": 50,
    "call.unhold": 50,
    "call.transferred": 60,
    "call.external_transferred": 60,
    "call.unsuccessful_transfer": 60,
    "call.hungup": 70,
    "call.voicemail_left": 75,
    "call.ended": 80,
    "call.comm_assets_generated": 85,
    # After the call: changes to its record.
    "call.tagged": 90,
    "call.untagged": 90,
    "call.commented": 90,
    "call.assigned": 90,
    "call.archived": 90,
}

# user.*.v2 events rank as their V1 twins.
USER: dict[str, int] = {
    "user.created": 10,
    "user.connected": 20,
    "user.disconnected": 20,
    "user.opened": 20,
    "user.closed": 20,
    "user.wut_start": 20,
    "user.wut_end": 20,
    "user.deleted": DELETED,
}

CONTACT: dict[str, int] = {"contact.created": 10, "contact.updated": 20, "contact.deleted": DELETED}
NUMBER: dict[str, int] = {
    "number.created": 10,
    "number.opened": 20,
    "number.closed": 20,
    "number.deleted": DELETED,
}
TEAM: dict[str, int] = {"team.created": 10, "team.destroyed": DELETED}

# Messages: the event first, then the delivery status (a status only moves forward).
MESSAGE_EVENT: dict[str, int] = {"sent": 1, "received": 1, "status_updated": 2}
MESSAGE_STATUS: dict[str, int] = {
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "received": 3,
    "delivered": 4,
    "read": 5,
    "undelivered": 6,
    "failed": 6,
}


def rank(table: dict[str, int], event: str, default: int = 20) -> int:
    if event.endswith(".synced"):
        return SYNCED
    return table.get(event.removesuffix(".v2"), default)


def synced_call_rank(status: str | None) -> int:
    """A call read from the API: final when done (as call.ended), else below every webhook."""
    return CALL["call.ended"] if status == "done" else SYNCED


def message_rank(event: str, status: str | None) -> int:
    kind = event.split(".", 1)[-1]
    return MESSAGE_EVENT.get(kind, 1) * 10 + MESSAGE_STATUS.get(status or "", 0)


def result_rank(event: str) -> int:
    """Conversation-intelligence results: an update outranks the creation of the same second."""
    return 20 if event.endswith(("updated", "_updated")) else 10
