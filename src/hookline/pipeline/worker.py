"""The worker: claim a batch of jobs, run the handlers on their events, delete the jobs, repeat.

A batch is applied in ONE transaction together with the deletion of its jobs, so an effect is
committed exactly when its job disappears. If the batch fails, its events are retried one by one (a
transaction each) so that one bad event never holds back the others: the bad one goes back to the
queue with exponential backoff, and is parked with its error after `worker_max_attempts`; an error
that comes from the event's values (handlers.is_permanent: Unprocessable, a database data error,
an overflow) parks it at once.

Database work runs in a thread (both drivers are synchronous here) on a connection of the worker's
own; the event loop keeps renewing the claim's lease while the batch runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from hookline.pipeline import jobs
from hookline.pipeline.handlers import (
    Registry,
    Unprocessable,
    apply_all,
    is_permanent,
    load_events,
    registry,
    unique_handlers,
)
from hookline.pipeline.metrics import pipeline_metrics
from hookline.pipeline.wakeup import Doorbell, listen_postgres
from hookline.runtime import Runtime
from hookline.store.engine import Connection

log = structlog.get_logger(__name__)


class LeaseLost(Exception):
    """Our claim was taken over (the lease lapsed): roll back, the new holder does the work."""


@dataclass(frozen=True)
class Outcome:
    done: int = 0
    retried: int = 0
    parked: int = 0
    lost: int = 0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    def __init__(
        self,
        runtime: Runtime,
        *,
        name: str | None = None,
        handlers: Registry | None = None,
        on_done: Callable[[list[jobs.Claimed], float], None] | None = None,
    ) -> None:
        s = runtime.settings
        self.runtime = runtime
        self.name = name or worker_name()
        self.handlers = registry(runtime) if handlers is None else handlers
        self._unique = unique_handlers(self.handlers)
        self.batch = s.worker_batch
        self.lease = s.worker_lease_seconds
        self.job_timeout = s.worker_job_timeout
        self.max_attempts = s.worker_max_attempts
        self.backoff = (s.worker_backoff_seconds, s.worker_backoff_max_seconds)
        self.poll = s.worker_poll_seconds
        self.bell: Doorbell = runtime.doorbell
        self.metrics = pipeline_metrics(runtime)
        self.on_done = on_done
        self._conn: Connection | None = None
        self._last_maintenance = 0.0

    # --- the loop -----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        self.bell.bind()
        listener = None
        if self.runtime.db.notifies:
            listener = asyncio.create_task(listen_postgres(self.runtime.db.url.url, self.bell, stop))
        log.info("worker started", worker=self.name, batch=self.batch, lease=self.lease)
        try:
            while not stop.is_set():
                try:
                    processed = await self.run_once()
                except Exception as exc:  # the database is away: keep trying, never die
                    log.error("worker cycle failed", worker=self.name, error=f"{type(exc).__name__}: {exc}")
                    await asyncio.to_thread(self._drop_connection)
                    await self.bell.wait(stop, self.poll)
                    continue
                if processed == 0:
                    await self.bell.wait(stop, self.poll)
        finally:
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)
            await asyncio.to_thread(self._drop_connection)
            log.info("worker stopped", worker=self.name)

    async def run_once(self) -> int:
        """Claim and process one batch; returns how many jobs were claimed."""
        token = f"{self.name}:{uuid.uuid4().hex[:12]}"
        claimed = await asyncio.to_thread(self._claim, token)
        if not claimed:
            return 0
        renewer = asyncio.create_task(self._keep_leased(token))
        try:
            outcome = await asyncio.to_thread(self._process, claimed, token)
        except BaseException:
            # Cancelled or failed mid-batch: hand the jobs back now rather than after the lease.
            # If the batch thread still commits later, its fenced DELETE finds nothing and rolls back.
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._release, token)
            raise
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
        self._count(outcome)
        return len(claimed)

    async def _keep_leased(self, token: str) -> None:
        started = time.monotonic()
        while True:
            await asyncio.sleep(self.lease / 3)
            if time.monotonic() - started > self.job_timeout:
                log.warning("batch over its time limit: no more lease renewals", worker=self.name)
                return
            try:
                await asyncio.to_thread(self._renew, token)
            except Exception as exc:
                log.warning("lease renewal failed", worker=self.name, error=type(exc).__name__)

    # --- database work (runs in a thread) --------------------------------------------------------

    def _connection(self) -> Connection:
        if self._conn is None:
            conn = self.runtime.db.connect()
            # The worker's commits need not wait for the disk: a crash can lose the last ones, but
            # each loses its job deletions with it (same transaction), so that work is simply redone.
            # The log's own commits stay synchronous, and flush these along with them.
            conn.defer_sync()
            # A statement stuck past the job timeout is cancelled instead of holding its claim (PostgreSQL).
            conn.statement_timeout(self.job_timeout)
            self._conn = conn
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def _claim(self, token: str) -> list[jobs.Claimed]:
        conn = self._connection()
        now = time.time()
        if now - self._last_maintenance > self.lease:
            self._last_maintenance = now
            with conn.transaction():
                parked = jobs.park_abandoned(conn, self.max_attempts, now)
            if parked:
                self.metrics.parked.inc(parked)
                log.warning("parked jobs whose workers kept dying", jobs=parked)
        return jobs.claim(conn, token, self.batch, self.lease, now)

    def _renew(self, token: str) -> None:
        with self.runtime.db.connection() as conn:
            jobs.renew(conn, token, self.lease)

    def _release(self, token: str) -> None:
        with self.runtime.db.connection() as conn:
            released = jobs.release(conn, token)
        if released:
            log.info("released claimed jobs", worker=self.name, jobs=released)

    def _process(self, claimed: list[jobs.Claimed], token: str) -> Outcome:
        conn = self._connection()
        try:
            with conn.transaction():
                events = load_events(conn, [c.event_id for c in claimed])
                apply_all(conn, self.handlers, events)
                if jobs.complete_claim(conn, token) != len(claimed):
                    raise LeaseLost
        except LeaseLost:
            log.warning("claim taken over before commit; rolled back", worker=self.name, jobs=len(claimed))
            return Outcome(lost=len(claimed))
        except Exception as exc:
            log.info("batch failed, retrying its events one by one", error=type(exc).__name__, jobs=len(claimed))
            return self._process_one_by_one(conn, claimed, token)
        self._done(claimed, {e.account for e in events})
        return Outcome(done=len(claimed))

    def _process_one_by_one(self, conn: Connection, claimed: list[jobs.Claimed], token: str) -> Outcome:
        by_id = {e.id: e for e in load_events(conn, [c.event_id for c in claimed])}
        done: list[jobs.Claimed] = []
        retried = parked = lost = 0
        for job in claimed:
            event = by_id.get(job.event_id)
            try:
                with conn.transaction():
                    if event is not None:
                        apply_all(conn, self.handlers, [event])
                    if not jobs.complete_job(conn, job.id, token):
                        raise LeaseLost
                done.append(job)
                continue
            except LeaseLost:
                lost += 1
                continue
            except Unprocessable as exc:
                error, retry_at = f"unprocessable: {exc}", None
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                if is_permanent(exc):  # the event's values, not the moment: ten retries would fail alike
                    error, retry_at = f"unprocessable: {error}", None
                else:
                    retry_at = None if job.attempts >= self.max_attempts else time.time() + jobs.backoff_delay(
                        job.attempts, *self.backoff
                    )
            with conn.transaction():
                jobs.fail_job(conn, job.id, token, error, retry_at=retry_at)
            if retry_at is None:
                parked += 1
                log.warning("job parked", job=job.id, event_id=job.event_id, attempts=job.attempts, error=error)
            else:
                retried += 1
                log.info("job failed, will retry", job=job.id, event_id=job.event_id, attempts=job.attempts,
                         retry_in=round(retry_at - time.time(), 2), error=error)
        self._done(done, {by_id[j.event_id].account for j in done if j.event_id in by_id})
        return Outcome(done=len(done), retried=retried, parked=parked, lost=lost)

    def _done(self, claimed: list[jobs.Claimed], accounts: set[str]) -> None:
        if not claimed:
            return
        for handler in self._unique:
            try:
                handler.after_commit()
            except Exception as exc:
                log.warning("after-commit hook failed", handler=handler.name, error=type(exc).__name__)
        try:  # after COMMIT: live views re-read now and find the new state
            self.runtime.changes.committed(self._connection(), (job.provider for job in claimed), accounts)
        except Exception as exc:  # a lost announcement costs a view its freshness, never the work
            log.warning("change announcement failed", worker=self.name, error=type(exc).__name__)
        now = time.time()
        for job in claimed:
            self.metrics.lag.observe(max(0.0, now - job.received_at))
        if self.on_done is not None:
            self.on_done(claimed, now)

    def _count(self, outcome: Outcome) -> None:
        m = self.metrics
        m.done.inc(outcome.done)
        m.retried.inc(outcome.retried)
        m.parked.inc(outcome.parked)
