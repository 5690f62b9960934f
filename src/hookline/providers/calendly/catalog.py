"""Every Calendly webhook event type hookline knows, and the pseudo-event the backfill writes.

Envelope: `{event, created_at, created_by, payload}`. For invitee.* and invitee_no_show.* events the
payload is the invitee resource (its `uri` is the invitee's URI, `scheduled_event` the meeting);
for routing_form_submission.created it is the submission.
"""

from __future__ import annotations

CATALOG: dict[str, str] = {
    "invitee.created": "an invitee booked a meeting (also the new side of a reschedule)",
    "invitee.canceled": "a meeting was canceled for an invitee (also the old side of a reschedule)",
    "invitee_no_show.created": "an invitee was marked as a no-show",
    "invitee_no_show.deleted": "an invitee's no-show mark was removed",
    "routing_form_submission.created": "a routing form was submitted (organization scope only)",
}

# Written by the backfill (origin "backfill"): an invitee as the REST API returned it, wrapped in the
# same envelope as webhooks. Not a Calendly webhook, so never subscribed to.
SYNCED = "invitee.synced"

DEFAULT_EVENTS = ("invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted")
ORGANIZATION_ONLY = frozenset({"routing_form_submission.created"})


def is_known(event: str) -> bool:
    return event in CATALOG or event == SYNCED


def resource_of(event: str) -> str | None:
    if event.startswith(("invitee.", "invitee_no_show.")):
        return "invitee"
    if event.startswith("routing_form_submission."):
        return "routing_form_submission"
    return None
