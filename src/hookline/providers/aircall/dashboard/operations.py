"""Aircall's block of the operations page: per account, its webhooks' state, the last event received
and the watchdog's incidents."""

from __future__ import annotations

from dataclasses import dataclass

from hookline.providers.aircall.incidents import Incident, IncidentStore
from hookline.providers.aircall.watchdog import last_webhook_event_at
from hookline.store.engine import Database
from hookline.store.queries import load_queries

Q = load_queries(__package__)

# An incident still being dealt with: re-enabling failed, or its backfill has not finished.
_UNRESOLVED = ("pending", "running", "failed", "skipped")


@dataclass(frozen=True)
class AccountState:
    name: str
    has_credentials: bool
    webhooks: int
    state: str  # active | incident | no webhook
    last_event_at: float | None
    incidents: list[Incident]


def account_states(db: Database) -> list[AccountState]:
    with db.connection() as conn:
        credentials = {r[0] for r in conn.fetchall(Q.operations_accounts)}
        webhooks = dict(conn.fetchall(Q.operations_webhooks))
    incidents = IncidentStore(db)
    out = []
    for name in sorted(credentials | set(webhooks)):
        recent = incidents.recent(name, limit=5)
        unresolved = bool(recent) and recent[0].backfill_status in _UNRESOLVED
        count = int(webhooks.get(name, 0))
        state = "incident" if unresolved else ("active" if count else "no webhook")
        out.append(AccountState(name, name in credentials, count, state, last_webhook_event_at(db, name), recent))
    return out
