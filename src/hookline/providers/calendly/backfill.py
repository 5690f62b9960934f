"""Backfill: what webhooks missed, read from the REST API and appended to the event log.

Each invitee of each meeting that starts after `since - lookback` and changed after `since` becomes an
`invitee.synced` event (origin "backfill") in the same envelope as a webhook, its payload the invitee
with its `scheduled_event`, so the bookings projection treats it like any snapshot. The dedup key
(event, invitee URI, updated_at) makes a second backfill of the same window add nothing. An invitee
whose event the log cannot hold (a NUL in its URI, a URI too long: see ingest/validate.py) is skipped
with a log line, so it never fails the rest of the window.
"""

from __future__ import annotations

import asyncio
import json
import time

import structlog

from hookline.ingest import validate
from hookline.providers.calendly import catalog
from hookline.providers.calendly.accounts import Account
from hookline.providers.calendly.api import CalendlyClient
from hookline.providers.calendly.receiver import PROVIDER, dedup_key, occurred_at
from hookline.providers.calendly.subscriptions import uuid_of
from hookline.store.engine import Database
from hookline.timeparse import iso
from hookline.types import IncomingEvent, Rejection

log = structlog.get_logger(__name__)


async def collect(
    client: CalendlyClient, account: Account, since: float, lookback: float, *, by_user: bool = False
) -> list[IncomingEvent]:
    now = time.time()
    found: list[IncomingEvent] = []
    meetings = client.scheduled_events(
        min_start_time=iso(since - lookback) or "",
        organization=None if by_user else account.organization_uri,
        user=account.user_uri if by_user else None,
    )
    async for meeting in meetings:
        async for invitee in client.invitees(uuid_of(str(meeting.get("uri", "")))):
            changed = invitee.get("updated_at") or invitee.get("created_at")
            changed_at = occurred_at(changed if isinstance(changed, str) else None)
            if changed_at is not None and changed_at < since:
                continue  # delivered by webhook before the gap
            uri = invitee.get("uri")
            envelope = {
                "event": catalog.SYNCED,
                "created_at": changed,
                "created_by": None,
                "payload": {**invitee, "scheduled_event": meeting},
            }
            body = json.dumps(envelope, separators=(",", ":")).encode()
            ev = IncomingEvent(
                provider=PROVIDER,
                account=account.name,
                event=catalog.SYNCED,
                dedup_key=dedup_key(catalog.SYNCED, uri, changed, body),
                body=body,
                received_at=now,
                known=True,
                resource="invitee",
                resource_id=uri,
                occurred_at=changed_at,
                origin="backfill",
            )
            try:
                validate.event_columns(ev)
            except Rejection as exc:  # skipped alone; the message names the field, never its value
                log.warning("calendly.backfill_refused", account=account.name, reason=exc.message,
                            resource_id=None if uri is None else ascii(str(uri)[:80]))
                continue
            found.append(ev)
    return found


def append(db: Database, events: list[IncomingEvent]) -> int:
    from hookline.assembly import append_direct

    """Append in one transaction; returns how many were new."""
    if not events:
        return 0
    conn = db.connect()
    try:
        # Jobs and deliveries in the same transaction, as the committer does (docs/pipeline.md).
        results = append_direct(conn, events)
    finally:
        conn.close()
    return sum(1 for r in results if not r.duplicate)


async def run(
    db: Database, client: CalendlyClient, account: Account, since: float, lookback: float, *, by_user: bool = False
) -> int:
    found = await collect(client, account, since, lookback, by_user=by_user)
    return await asyncio.to_thread(append, db, found)
