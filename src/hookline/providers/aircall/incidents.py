"""Watchdog incidents: a webhook pointing here that Aircall had deactivated, what was done about it,
and the backfill of the window it may have missed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from hookline.store.engine import Database
from hookline.store.queries import Query, load_queries
from hookline.timeparse import iso

# backfill_status: pending (not started) -> running -> done | failed; skipped when re-enabling failed.
Q = load_queries(__package__)


@dataclass(frozen=True)
class Incident:
    id: int
    account: str
    webhook_id: str
    url: str
    detected_at: float
    reenabled_at: float | None
    last_event_at: float | None
    backfill_since: float | None
    backfill_until: float | None
    backfill_status: str
    backfill_new: int
    error: str | None

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("detected_at", "reenabled_at", "last_event_at", "backfill_since", "backfill_until"):
            out[key] = iso(out[key])
        return out


class IncidentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def open(self, account: str, webhook_id: str, url: str, detected_at: float) -> int:
        with self.db.connection() as conn:
            row = conn.fetchone(Q.open_incident, (account, webhook_id, url, detected_at))
        return int(row[0])

    def reenabled(self, incident_id: int, at: float) -> None:
        self._set(Q.incident_reenabled, [(at, incident_id)])

    def failed(self, incident_id: int, error: str) -> None:
        self._set(Q.incident_failed, [(error, incident_id)])

    def window(self, ids: Sequence[int], last_event_at: float | None, since: float, until: float) -> None:
        self._set(Q.incident_window, [(last_event_at, since, until, i) for i in ids])

    def backfilled(self, ids: Sequence[int], new: int, error: str | None = None) -> None:
        status = "failed" if error else "done"
        self._set(Q.incident_backfilled, [(status, new, error, i) for i in ids])

    def _set(self, query: Query, rows: Sequence[tuple[Any, ...]]) -> None:
        """One update per incident, each on its own (autocommit), as the watchdog reports progress."""
        for params in rows:
            with self.db.connection() as conn:
                conn.execute(query, params)

    def unfinished(self, account: str) -> dict[tuple[float, float], list[int]]:
        """Backfill windows of earlier incidents that were interrupted or failed, with their incident ids."""
        with self.db.connection() as conn:
            rows = conn.fetchall(Q.unfinished_incidents, (account,))
        windows: dict[tuple[float, float], list[int]] = {}
        for incident_id, since, until in rows:
            windows.setdefault((float(since), float(until)), []).append(int(incident_id))
        return windows

    def recent(self, account: str | None = None, limit: int = 50) -> list[Incident]:
        with self.db.connection() as conn:
            if account is None:
                rows = conn.fetchall(Q.recent_incidents, (limit,))
            else:
                rows = conn.fetchall(Q.recent_incidents_of_account, (account, limit))
        return [Incident(*row) for row in rows]
