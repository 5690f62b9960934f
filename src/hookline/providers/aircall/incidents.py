"""Watchdog incidents: a webhook pointing here that Aircall had deactivated, what was done about it,
and the backfill of the window it may have missed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from hookline.store.engine import Database
from hookline.timeparse import iso

# backfill_status: pending (not started) -> running -> done | failed; skipped when re-enabling failed.
_COLUMNS = (
    "id, account, webhook_id, url, detected_at, reenabled_at, last_event_at, backfill_since, backfill_until,"
    " backfill_status, backfill_new, error"
)


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
            row = conn.fetchone(
                "INSERT INTO aircall_incidents (account, webhook_id, url, detected_at)"
                " VALUES (?, ?, ?, ?) RETURNING id",
                (account, webhook_id, url, detected_at),
            )
        return int(row[0])

    def reenabled(self, incident_id: int, at: float) -> None:
        self._set(incident_id, reenabled_at=at)

    def failed(self, incident_id: int, error: str) -> None:
        self._set(incident_id, error=error, backfill_status="skipped")

    def window(self, ids: Sequence[int], last_event_at: float | None, since: float, until: float) -> None:
        for i in ids:
            self._set(
                i, last_event_at=last_event_at, backfill_since=since, backfill_until=until, backfill_status="running"
            )

    def backfilled(self, ids: Sequence[int], new: int, error: str | None = None) -> None:
        for i in ids:
            self._set(i, backfill_status="failed" if error else "done", backfill_new=new, error=error)

    def _set(self, incident_id: int, **values: Any) -> None:
        columns = ", ".join(f"{k} = ?" for k in values)
        with self.db.connection() as conn:
            conn.execute(f"UPDATE aircall_incidents SET {columns} WHERE id = ?", (*values.values(), incident_id))

    def unfinished(self, account: str) -> dict[tuple[float, float], list[int]]:
        """Backfill windows of earlier incidents that were interrupted or failed, with their incident ids."""
        with self.db.connection() as conn:
            rows = conn.fetchall(
                "SELECT id, backfill_since, backfill_until FROM aircall_incidents"
                " WHERE account = ? AND backfill_status IN ('running', 'failed') AND backfill_since IS NOT NULL"
                " ORDER BY id",
                (account,),
            )
        windows: dict[tuple[float, float], list[int]] = {}
        for incident_id, since, until in rows:
            windows.setdefault((float(since), float(until)), []).append(int(incident_id))
        return windows

    def recent(self, account: str | None = None, limit: int = 50) -> list[Incident]:
        sql = f"SELECT {_COLUMNS} FROM aircall_incidents"
        params: list[Any] = []
        if account is not None:
            sql += " WHERE account = ?"
            params.append(account)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        with self.db.connection() as conn:
            return [Incident(*row) for row in conn.fetchall(sql, params)]
