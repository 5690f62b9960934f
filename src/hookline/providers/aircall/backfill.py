"""Backfill: read what webhooks missed from Aircall's REST API into the event log.

Calls, users and contacts are read for a time window (oldest first; the client splits the window
under Aircall's 10,000-record cap); numbers, teams and tags are small and read in full. Each record
becomes a `<resource>.synced` event (see synced.py), appended in batches. After each committed
batch the checkpoint moves on, so an interrupted run resumes where it stopped. A record whose event
the log cannot hold (a NUL or a lone surrogate in its id, an id too long: see ingest/validate.py) is
skipped, logged and counted as refused, so it never fails the rest of its window. The CLI command and
the watchdog run this same code; they differ only in where events are written (EventSink).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from hookline.ingest import validate
from hookline.providers.aircall.checkpoints import Checkpoint, CheckpointStore
from hookline.providers.aircall.synced import synced_event
from hookline.store.engine import Database
from hookline.types import AppendResult, IncomingEvent, Rejection

if TYPE_CHECKING:
    from hookline.providers.aircall.api import AircallClient
    from hookline.store.committer import Committer

RESOURCES: tuple[str, ...] = ("calls", "users", "contacts", "numbers", "teams", "tags")
WINDOWED = {"calls": "started_at", "users": "created_at", "contacts": "created_at"}
BATCH_SIZE = 500

log = structlog.get_logger(__name__)


def parse_resources(text: str | None) -> list[str]:
    """'calls,users' -> ['calls', 'users'] in canonical order; ValueError for an unknown name."""
    if not text:
        return list(RESOURCES)
    wanted = {r.strip() for r in text.split(",") if r.strip()}
    unknown = sorted(wanted - set(RESOURCES))
    if unknown:
        raise ValueError(f"unknown resource(s): {', '.join(unknown)} (choose from {', '.join(RESOURCES)})")
    return [r for r in RESOURCES if r in wanted]


# ---------------------------------------------------------------------------------------------- sinks


class EventSink(Protocol):
    async def append(self, events: list[IncomingEvent]) -> Sequence[AppendResult | None]:
        """One result per event, in order; None for an event the log refused (the others are stored)."""
        ...


class DatabaseSink:
    """Append straight to the log, one transaction per batch (the CLI)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _append(self, events: list[IncomingEvent]) -> list[AppendResult]:
        from hookline.assembly import append_direct

        with self.db.connection() as conn:
            # Jobs and deliveries in the same transaction, as the committer does (docs/pipeline.md).
            return append_direct(conn, events)

    async def append(self, events: list[IncomingEvent]) -> list[AppendResult]:
        return await asyncio.to_thread(self._append, events)


class CommitterSink:
    """Append through `serve`'s group-commit writer: SQLite keeps exactly one writer, and the
    writer's in-transaction hooks (e.g. job enqueueing) see backfilled events like webhooks."""

    def __init__(self, committer: Committer) -> None:
        self.committer = committer

    async def append(self, events: list[IncomingEvent]) -> list[AppendResult | None]:
        from hookline.store.committer import EventRefused

        outcomes = await asyncio.gather(*(self.committer.append(e) for e in events), return_exceptions=True)
        results: list[AppendResult | None] = []
        for ev, outcome in zip(events, outcomes, strict=True):
            if isinstance(outcome, EventRefused):  # this event alone: the committer stored the others
                log.warning("aircall.backfill_refused", event_type=ev.event, resource_id=_loggable(ev.resource_id),
                            reason=outcome.error)
                results.append(None)
            elif isinstance(outcome, BaseException):  # the log is unavailable: the window fails, resumable
                raise outcome
            else:
                results.append(outcome)
        return results


def _loggable(value: str | None) -> str | None:
    """An id for a log line: the bad characters escaped and the length capped."""
    return None if value is None else ascii(value[:80])


# --------------------------------------------------------------------------------------------- runner


@dataclass
class ResourceResult:
    resource: str
    fetched: int = 0
    new: int = 0
    resumed_from: float | None = None  # the checkpoint position this run started from, when resumed
    refused: int = 0  # records read but not stored: the log cannot hold their event (counted in fetched)

    @property
    def known(self) -> int:
        return self.fetched - self.new - self.refused

    def as_json(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "fetched": self.fetched,
            "new": self.new,
            "already_known": self.known,
            "refused": self.refused,
            "resumed_from": self.resumed_from,
        }


@dataclass
class BackfillResult:
    account: str
    since: float
    until: float
    resources: list[ResourceResult] = field(default_factory=list)

    @property
    def fetched(self) -> int:
        return sum(r.fetched for r in self.resources)

    @property
    def new(self) -> int:
        return sum(r.new for r in self.resources)

    @property
    def refused(self) -> int:
        return sum(r.refused for r in self.resources)


# progress(resource, fetched so far, fraction of the window covered or None when unknown)
Progress = Callable[[str, int, float | None], None]


def _created(record: Any, field_name: str) -> float | None:
    value = record.get(field_name) if isinstance(record, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


class Backfill:
    def __init__(
        self,
        client: AircallClient,
        account: str,
        sink: EventSink,
        checkpoints: CheckpointStore,
        *,
        batch_size: int = BATCH_SIZE,
        clock: Callable[[], float] = time.time,
        progress: Progress | None = None,
    ) -> None:
        self.client = client
        self.account = account
        self.sink = sink
        self.checkpoints = checkpoints
        self.batch_size = batch_size
        self.clock = clock
        self.progress = progress

    async def run(self, since: float, until: float, resources: Sequence[str] = RESOURCES) -> BackfillResult:
        if until <= since:
            raise ValueError("the window is empty: --until must be after --since")
        result = BackfillResult(self.account, since, until)
        for resource in resources:
            result.resources.append(await self.resource(resource, since, until))
        return result

    async def resource(self, resource: str, since: float, until: float) -> ResourceResult:
        cp = await asyncio.to_thread(self.checkpoints.begin, self.account, resource, since, until)
        out = ResourceResult(resource, resumed_from=cp.position if cp.resumed else None)
        time_field = WINDOWED.get(resource)
        records: AsyncIterator[dict[str, Any]]
        if time_field is not None:
            records = self.client.iter_window(resource, cp.position, until, time_field=time_field)
        else:
            records = self.client.iter_list(resource)  # small: read in full, from the start on resume
        batch: list[IncomingEvent] = []
        last_time: float | None = None
        async for record in records:
            ev = synced_event(self.account, resource, record, self.clock())
            try:
                validate.event_columns(ev)
            except Rejection as exc:  # skipped alone; the message names the field, never its value
                log.warning("aircall.backfill_refused", account=self.account, resource=resource,
                            resource_id=_loggable(ev.resource_id), reason=exc.message)
                out.fetched += 1
                out.refused += 1
            else:
                batch.append(ev)
            if time_field is not None:
                last_time = _created(record, time_field) or last_time
            if len(batch) >= self.batch_size:
                await self._flush(cp, out, batch, last_time)
                batch = []
        await self._flush(cp, out, batch, None, done=True)
        return out

    async def _flush(
        self,
        cp: Checkpoint,
        out: ResourceResult,
        batch: list[IncomingEvent],
        last_time: float | None,
        done: bool = False,
    ) -> None:
        if batch:
            results = await self.sink.append(batch)
            new = sum(1 for r in results if r is not None and not r.duplicate)
            out.fetched += len(batch)
            out.new += new
            out.refused += sum(1 for r in results if r is None)
            cp.fetched += len(batch)
            cp.new += new
        if last_time is not None:
            # Records of the last second may continue in the next page: resume from its start.
            cp.position = max(cp.position, float(math.floor(last_time)))
        if done:
            cp.position, cp.done = cp.until, True
        await asyncio.to_thread(self.checkpoints.save, cp)
        if self.progress is not None:
            span = cp.until - cp.since
            fraction = (cp.position - cp.since) / span if span > 0 and (cp.resource in WINDOWED or done) else None
            self.progress(out.resource, out.fetched, fraction)
