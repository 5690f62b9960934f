"""The dispatcher: claim due deliveries, POST them, record what happened. Runs in `serve` or a worker.

One loop per process: in one transaction, write finished outcomes and claim as many due deliveries
as there are free slots (per destination); start a task per delivery; then sleep until woken (new
deliveries committed, a task finished, a PostgreSQL NOTIFY) or until the next retry or breaker probe
is due. The event loop never blocks on the database:
- SQLite inside `serve`: the turn is handed to the group-commit writer (Committer.submit) and runs in
  the next batch's transaction. One writer per file, one fsync for events and deliveries together,
  and deliveries a batch creates can be claimed in the very transaction that creates them.
- Otherwise (PostgreSQL, or a worker process): a thread with a connection of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import aiohttp
import structlog

from hookline.forwarding import claims, payload, sender
from hookline.forwarding.claims import Job, Outcome
from hookline.forwarding.destinations import CHANNEL, Destination
from hookline.forwarding.metrics import ForwardingMetrics
from hookline.forwarding.policy import Attempt, Decision, RetryPolicy
from hookline.forwarding.signing import Signer
from hookline.outbound import OutboundPolicy
from hookline.pipeline.wakeup import listen
from hookline.provider import Provider
from hookline.runtime import Runtime
from hookline.store.engine import Connection
from hookline.store.filelock import FileLock

log = structlog.get_logger(__name__)
T = TypeVar("T")
WAKE_KEY = "forwarding.wake"
METRICS_KEY = "forwarding.metrics"


class _Generic(Provider):
    """For events of a provider that is no longer installed: forward the body as it is."""

    name = "generic"


class Dispatcher:
    def __init__(self, runtime: Runtime) -> None:
        s = runtime.settings
        self.runtime = runtime
        self.db = runtime.db
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.policy = RetryPolicy.from_settings(s)
        self.outbound = OutboundPolicy.from_settings(s)
        self.timeout = s.delivery_timeout_seconds
        self.concurrency = s.delivery_concurrency
        self.threshold = s.delivery_breaker_threshold
        self.cooldown = s.delivery_breaker_cooldown_seconds
        self.poll = s.delivery_poll_seconds
        # Claim up to `window` per destination: `concurrency` in flight plus as many ready to go the moment
        # a request ends, so a slot never waits for the next database turn.
        self.window = 8 * self.concurrency
        # A lease outlives the wait for a slot plus the request's timeout, so a slow answer never loses its row.
        self.lease_seconds = self.timeout * (self.window // self.concurrency + 1) + 30.0
        self.providers = {p.name: p for p in runtime.providers}
        self.generic = _Generic()
        self.metrics: ForwardingMetrics = runtime.state.setdefault(
            METRICS_KEY, ForwardingMetrics(runtime.metrics.registry)
        )
        self.claimed: dict[int, int] = defaultdict(int)  # per destination: claimed, not finished
        self.failing: dict[int, int] = defaultdict(int)  # per destination: consecutive failures seen
        self.slots: dict[int, asyncio.Semaphore] = {}
        self.stopping = False
        self.outcomes: list[Outcome] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.signers: dict[str, Signer] = {}
        self.wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="hookline-dispatcher")
        self._conn: Connection | None = None
        self._session: aiohttp.ClientSession | None = None

    # -- database, on the dispatcher's own thread ------------------------------------------------

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.db.connect()
        return self._conn

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run fn(connection, *args) inside a transaction: the writer's, or our own thread's."""
        committer = self.runtime.committer
        if self.db.single_writer_file is not None and committer.running:
            return await asyncio.wrap_future(committer.submit(lambda conn: fn(conn, *args)))
        loop = asyncio.get_running_loop()

        def in_transaction() -> T:
            conn = self._connection()
            with conn.transaction():
                return fn(conn, *args)

        try:
            return await loop.run_in_executor(self._executor, in_transaction)
        except Exception:
            if self._conn is not None:  # maybe broken: a fresh one next time
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None
            raise

    def _free_slots(self, dest: Destination) -> int:
        if dest.breaker_open_until is not None:
            return 0 if self.claimed[dest.id] else 1  # half-open: the probe goes alone
        return self.window - self.claimed[dest.id]

    def _cycle(self, conn: Connection, outcomes: list[Outcome]) -> tuple[list[Job], list[Destination], float | None]:
        return claims.cycle(
            conn, outcomes, self.owner, self._free_slots, self.lease_seconds, self.threshold, self.cooldown
        )

    # -- the loop ---------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        lock = self._single_sqlite_dispatcher()
        if self.db.single_writer_file is not None and lock is None:
            log.warning("another dispatcher runs on this SQLite database; this one stays idle")
            await stop.wait()
            return
        self.runtime.state[WAKE_KEY] = lambda: loop.call_soon_threadsafe(self.wake.set)
        helpers = [asyncio.create_task(self._wake_on(stop))]
        if self.db.notifies:
            # PostgreSQL: deliveries created or retried by other processes wake us at once.
            listening = listen(self.db.url.url, CHANNEL, self._woken, stop, max(self.poll, 1.0))
            helpers.append(asyncio.create_task(listening))
        # The outbound policy's connector: a destination resolving to a denied address gets no connection.
        self._session = aiohttp.ClientSession(
            connector=self.outbound.connector(limit=0, limit_per_host=self.concurrency, enable_cleanup_closed=True)
        )
        log.info("dispatcher started", owner=self.owner)
        try:
            if self.db.single_writer_file is not None:
                # The only dispatcher of this file: leases left by a previous process are stale.
                await self._db(claims.release, None)
            await self._loop(stop)
        finally:
            await self._shutdown(helpers)
            self.runtime.state.pop(WAKE_KEY, None)
            if lock is not None:
                lock.release()
            log.info("dispatcher stopped", owner=self.owner)

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.wake.clear()
            timeout = self.poll
            batch, self.outcomes = self.outcomes, []
            started = time.perf_counter()
            try:
                jobs, dests, due = await self._db(self._cycle, batch)
                self.metrics.turn.observe(time.perf_counter() - started)
                self.metrics.claimed.inc(len(jobs))
            except Exception as exc:
                self.outcomes = batch + self.outcomes  # written next turn; the leases keep the rows ours
                log.error("dispatcher database error", error=f"{type(exc).__name__}: {exc}"[:300])
                await asyncio.sleep(min(self.poll, 1.0))  # the database is down or busy: no hot loop
                continue
            for dest in dests:
                # The database is the judge of the breaker: start from its count of failures.
                self.failing[dest.id] = dest.consecutive_failures
            by_id = {d.id: d for d in dests}
            for job in jobs:
                self._start(job, by_id[job.destination_id])
            if due is not None:
                timeout = min(timeout, max(0.0, due - time.time()))
            if self.wake.is_set() or stop.is_set():
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout)

    def _start(self, job: Job, dest: Destination) -> None:
        self.claimed[dest.id] += 1
        task = asyncio.create_task(self._send(job, dest, probe=dest.breaker_open_until is not None))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, job: Job, dest: Destination, probe: bool) -> None:
        assert self._session is not None
        slot = self.slots.get(dest.id)
        if slot is None:
            slot = self.slots[dest.id] = asyncio.Semaphore(self.concurrency)
        try:
            async with slot:
                if self.stopping or (not probe and self.failing[dest.id] >= self.threshold):
                    # Shutting down, or the breaker opened while this one waited for a slot: hand it back.
                    self.outcomes.append(Outcome(job, Decision("skipped"), None, time.time()))
                    return
                attempt = await self._attempt(job, dest)
            finished = time.time()
            decision = self.policy.decide(attempt, job.attempts + 1, job.started_at, finished)
            self.outcomes.append(Outcome(job, decision, attempt.status, finished))
            self.failing[dest.id] = 0 if decision.verdict == "succeeded" else self.failing[dest.id] + 1
            self.metrics.attempts.labels(destination=dest.name, verdict=decision.verdict).inc()
            if decision.verdict == "succeeded" and job.origin == "live":
                self.metrics.lag.observe(finished - job.received_at)
            elif decision.verdict in ("dead", "gone"):
                log.warning("delivery dead", delivery=job.id, destination=dest.name, error=decision.error)
        finally:
            self.claimed[dest.id] -= 1
            self.wake.set()

    async def _attempt(self, job: Job, dest: Destination) -> Attempt:
        assert self._session is not None
        try:
            provider = self.providers.get(job.provider, self.generic)
            body = payload.body(job, lambda _p, raw: provider.forwarded_data(raw))
            signer = self.signers.get(dest.secret)
            if signer is None:
                signer = self.signers[dest.secret] = Signer(dest.secret)
            headers = payload.headers(job, signer.headers(job.webhook_id, body, time.time()))
            return await sender.post(self._session, dest.url, body, headers, self.timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not lose the delivery: it is retried like a failure
            log.error("delivery error", delivery=job.id, error=type(exc).__name__)
            return Attempt(None, f"hookline error: {type(exc).__name__}")

    async def _flush(self) -> None:
        """Write what finished (shutdown: nothing is claimed any more)."""
        if self.outcomes:
            batch, self.outcomes = self.outcomes, []
            await self._db(claims.record, batch, self.owner, self.threshold, self.cooldown)

    def _woken(self, _payload: str | None) -> None:
        self.wake.set()

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self.wake.set()

    async def _shutdown(self, helpers: list[asyncio.Task[Any]]) -> None:
        """Let requests in flight finish (bounded), write their outcomes, hand back the rest."""
        self.stopping = True  # jobs still waiting for a slot are handed back, not started
        for h in helpers:
            h.cancel()
        if self.tasks:
            _, late = await asyncio.wait(set(self.tasks), timeout=min(self.timeout, 5.0))
            for t in late:
                t.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await asyncio.gather(*helpers, return_exceptions=True)
        try:
            await self._flush()
            await self._db(claims.release, self.owner)
        except Exception as exc:  # leases expire by themselves
            log.error("dispatcher could not hand back its leases", error=type(exc).__name__)
        if self._session is not None:
            await self._session.close()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=False)

    def _single_sqlite_dispatcher(self) -> FileLock | None:
        """An exclusive lock file next to the SQLite database (the OS frees it if we die)."""
        path = self.db.single_writer_file
        if path is None:
            return None
        lock = FileLock(f"{path}.dispatcher.lock")
        return lock if lock.acquire() else None


def dispatcher_loop(runtime: Runtime) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    """The dispatcher as a loop factory of pipeline/loops.py (LoopGroup): one loop of `serve`'s group
    (unless HOOKLINE_FORWARDING_DISPATCHER=false), or the only one of `hookline dispatcher`. It
    delivers until its stop event is set, then finishes gracefully."""
    return Dispatcher(runtime).run
