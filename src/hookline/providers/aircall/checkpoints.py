"""Backfill checkpoints: how far one backfill of one resource over one window has committed.

A run that is interrupted (Ctrl-C, a crash, a lost connection) resumes from `position` when it is
started again for the same window; a finished window started again is read again from its start
(the event log's dedup keys make that safe).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from hookline.store.engine import Database


@dataclass
class Checkpoint:
    account: str
    resource: str
    since: float
    until: float
    position: float  # every record created before this time (unix s) is committed
    fetched: int = 0
    new: int = 0
    done: bool = False

    @property
    def resumed(self) -> bool:
        return self.position > self.since and not self.done


_COLUMNS = "account, resource, since, until, position, fetched, new, done"


class CheckpointStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def begin(self, account: str, resource: str, since: float, until: float) -> Checkpoint:
        """The unfinished checkpoint of this window, or a fresh one."""
        now = time.time()
        with self.db.connection() as conn, conn.transaction():
            row = conn.fetchone(
                f"SELECT {_COLUMNS} FROM aircall_backfill_checkpoints"
                " WHERE account = ? AND resource = ? AND since = ? AND until = ?",
                (account, resource, since, until),
            )
            if row is not None and not row[7]:
                return Checkpoint(
                    account, resource, since, until, float(row[4]), fetched=int(row[5]), new=int(row[6])
                )
            conn.execute(
                "INSERT INTO aircall_backfill_checkpoints"
                " (account, resource, since, until, position, fetched, new, done, started_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 0, 0, FALSE, ?, ?) ON CONFLICT (account, resource, since, until)"
                " DO UPDATE SET position = excluded.position, fetched = 0, new = 0, done = FALSE,"
                " started_at = excluded.started_at, updated_at = excluded.updated_at",
                (account, resource, since, until, since, now, now),
            )
        return Checkpoint(account, resource, since, until, since)

    def save(self, cp: Checkpoint) -> None:
        with self.db.connection() as conn:
            conn.execute(
                "UPDATE aircall_backfill_checkpoints SET position = ?, fetched = ?, new = ?, done = ?, updated_at = ?"
                " WHERE account = ? AND resource = ? AND since = ? AND until = ?",
                (cp.position, cp.fetched, cp.new, cp.done, time.time(), cp.account, cp.resource, cp.since, cp.until),
            )

    def unfinished_until(self, account: str, since: float, resources: list[str]) -> float | None:
        """The end of the latest unfinished window starting at `since` (to resume a run made without --until)."""
        marks = ",".join("?" for _ in resources)
        with self.db.connection() as conn:
            row = conn.fetchone(
                "SELECT until FROM aircall_backfill_checkpoints WHERE account = ? AND since = ? AND NOT done"
                f" AND resource IN ({marks}) ORDER BY updated_at DESC LIMIT 1",
                (account, since, *resources),
            )
        return None if row is None else float(row[0])
