"""Backfill checkpoints: how far one backfill of one resource over one window has committed.

A run that is interrupted (Ctrl-C, a crash, a lost connection) resumes from `position` when it is
started again for the same window; a finished window started again is read again from its start
(the event log's dedup keys make that safe).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from hookline.store.engine import Database
from hookline.store.queries import load_queries

Q = load_queries(__package__)


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


class CheckpointStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def begin(self, account: str, resource: str, since: float, until: float) -> Checkpoint:
        """The unfinished checkpoint of this window, or a fresh one."""
        now = time.time()
        with self.db.connection() as conn, conn.transaction():
            row = conn.fetchone(Q.checkpoint, (account, resource, since, until))
            if row is not None and not row[7]:
                return Checkpoint(
                    account, resource, since, until, float(row[4]), fetched=int(row[5]), new=int(row[6])
                )
            conn.execute(Q.start_checkpoint, (account, resource, since, until, since, now, now))
        return Checkpoint(account, resource, since, until, since)

    def save(self, cp: Checkpoint) -> None:
        with self.db.connection() as conn:
            conn.execute(
                Q.save_checkpoint,
                (cp.position, cp.fetched, cp.new, cp.done, time.time(), cp.account, cp.resource, cp.since, cp.until),
            )

    def unfinished_until(self, account: str, since: float, resources: list[str]) -> float | None:
        """The end of the latest unfinished window starting at `since` (to resume a run made without --until)."""
        with self.db.connection() as conn:
            rows = conn.fetchall(Q.unfinished_windows, (account, since))
        wanted = set(resources)
        return next((float(until) for resource, until in rows if resource in wanted), None)
