"""Events hookline notices itself, for rules: a provider's watchdog found a webhook deactivated.

Providers do not announce that they disabled a webhook, but the watchdogs find out. What they found
is appended to the event log like a webhook's event, under the provider and account concerned, with
origin `watchdog` and `known` false (the provider's catalog does not name it): the rule matcher sees
it as any other event (`aircall:hookline.webhook_deactivated`), projections skip it as an unknown
type, and forwarding never sends it (fan-out is a hook of the ingest committer, not used here). Its
dedup key is the incident's, so a watchdog pass that runs twice records it once.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from hookline.pipeline import jobs
from hookline.store import events as event_log
from hookline.store.engine import Database
from hookline.types import IncomingEvent

ORIGIN = "watchdog"


def record(db: Database, *, provider: str, account: str, event: str, body: dict[str, Any], key: str,
           at: float) -> int:
    """Append one event (with its pipeline job, in one transaction); returns its id."""
    incoming = IncomingEvent(
        provider=provider, account=account, event=event, dedup_key=key, body=msgspec.json.encode(body),
        received_at=time.time(), known=False, occurred_at=at, origin=ORIGIN,
    )
    conn = db.connect()
    try:
        [result] = event_log.append_batch(conn, [incoming], [jobs.enqueue_hook()])
    finally:
        conn.close()
    return result.id
