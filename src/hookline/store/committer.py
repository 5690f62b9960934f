"""The group-commit writer: one thread, one connection, one transaction per batch.

Requests hand their event to `append()` and wait. The writer thread takes every event waiting at that
moment (up to `batch_max`), appends them in a single transaction, and only after COMMIT returns
resolves the waiting futures, one event-loop wake-up per batch. So an answer always means "committed"
and throughput grows with load instead of being capped by one fsync per request.

When a batch's transaction fails while the database is still there, the failure may belong to one
event (a value a column cannot hold, a hook that cannot handle it): the batch is split in halves and
each half retried, down to the single event at fault, which alone is refused (EventRefused); every
other event is committed and answered. A lost database (connection errors, lock timeouts, a full
disk, a missing table, anything else) fails the whole batch with CommitFailed, answered 503.

Other writers in the process (the forwarding dispatcher on SQLite) hand their writes to `submit()`:
they run in the same transaction as the next batch, each under a savepoint, so SQLite keeps exactly
one writer and one fsync serves both.

It lives in store/ (it writes the log and knows nothing above it); the hooks it runs in each
transaction (jobs, deliveries) are installed by hookline/assembly.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

import structlog

from hookline.store import events as event_log
from hookline.store.engine import Connection, Database
from hookline.store.queries import load_queries
from hookline.types import AppendResult, IncomingEvent

log = structlog.get_logger(__name__)
Q = load_queries(__package__)

Waiter = tuple[IncomingEvent, asyncio.Future[AppendResult], asyncio.AbstractEventLoop]
Work = tuple[Callable[[Connection], Any], "Future[Any]"]
T = TypeVar("T")


class CommitFailed(Exception):
    """The batch holding this event was not committed: the client must not get a 2xx."""


class EventRefused(CommitFailed):
    """The log cannot hold this event (the batch without it committed): the client gets a 4xx."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"the event log cannot store this event ({type(error).__name__})")
        self.error = type(error).__name__


def _event_at_fault(exc: BaseException) -> bool:
    """Did the transaction fail because of one event's values (retry without it), rather than because
    of the database (lost connection, lock timeout, full disk, missing table: 503 for all)?"""
    import psycopg  # imported here: only a failed batch needs it

    return isinstance(
        exc,
        # a value a column or index cannot hold (NUL in text, too long, out of range, a constraint)
        psycopg.DataError | psycopg.IntegrityError | psycopg.errors.ProgramLimitExceeded
        | sqlite3.DataError | sqlite3.IntegrityError
        # a value the driver or a hook cannot even convert (a lone surrogate, an integer too big)
        | ValueError | TypeError | OverflowError,
    )


class Committer:
    def __init__(
        self,
        db: Database,
        *,
        batch_max: int = 1000,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self._db = db
        self._batch_max = batch_max
        self._on_batch = on_batch
        self._queue: deque[Waiter] = deque()
        self._work: list[Work] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._busy = False  # a batch is being committed
        self._conn: Connection | None = None
        # Hooks run inside the batch's transaction with the batch and its results (e.g. enqueue jobs).
        self.in_transaction: list[event_log.BatchHook] = []
        # Hooks run on the writer thread after COMMIT (e.g. wake a dispatcher); they must not block.
        self.after_commit: list[Callable[[list[IncomingEvent], list[AppendResult]], None]] = []

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hookline-committer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)
        with contextlib.suppress(Exception):  # the counts held back (store/events.py _Pending)
            event_log.flush_counts(self._connection())
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopping

    @property
    def idle(self) -> bool:
        """Nothing waiting and no batch being committed: a background writer (retention) may take the lock now."""
        return not self._queue and not self._work and not self._busy

    def submit(self, write: Callable[[Connection], T]) -> Future[T]:
        """Run `write(conn)` inside the writer's next transaction; the future resolves after COMMIT."""
        fut: Future[T] = Future()
        with self._cond:
            if self._stopping:
                fut.set_exception(CommitFailed("shutting down"))
                return fut
            self._work.append((write, fut))
            self._cond.notify()
        return fut

    async def append(self, event: IncomingEvent) -> AppendResult:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[AppendResult] = loop.create_future()
        with self._cond:
            if self._stopping:
                raise CommitFailed("shutting down")
            self._queue.append((event, fut, loop))
            self._cond.notify()
        return await fut

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._work and not self._stopping:
                    self._cond.wait()
                if not self._queue and not self._work and self._stopping:
                    return
                n = min(len(self._queue), self._batch_max)
                batch = [self._queue.popleft() for _ in range(n)]
                work, self._work = self._work, []
                self._busy = True
            try:
                if batch:
                    self._commit(batch, work)
                else:
                    self._commit_work(work)
            except Exception as exc:  # a bug here must not kill the writer and leave requests waiting
                log.exception("committer failed", error=type(exc).__name__)
                self._drop_connection()
                _resolve(batch, None, CommitFailed("the event log is unavailable"))  # no-op where answered
                _settle([w for w in work if not w[1].done()], [], exc)
            finally:
                self._busy = False

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._db.connect(writer=True)
        return self._conn

    def _commit(self, batch: list[Waiter], work: list[Work]) -> None:
        started = time.perf_counter()
        events = [w[0] for w in batch]
        outputs: list[tuple[bool, Any]] = []
        hooks = self.in_transaction
        if work:
            hooks = [*hooks, lambda conn, _e, _r: outputs.extend(_run_work(conn, work))]
        try:
            conn = self._connection()
            results = event_log.append_batch(conn, events, hooks, defer_counts=True)
        except Exception as exc:
            if not _event_at_fault(exc) or not self._alive():
                log.error("commit failed", error=type(exc).__name__, batch=len(batch))
                self._drop_connection()
                _resolve(batch, None, CommitFailed("the event log is unavailable"))
                _settle(work, [], exc)
                return
            log.warning("commit failed, isolating the event at fault", error=type(exc).__name__, batch=len(batch))
            self._isolate(batch, started)
            if work:
                self._commit_work(work)  # their own savepoints already isolate them
            return
        _settle(work, outputs, None)
        self._committed(batch, events, results, started)

    def _committed(
        self, batch: list[Waiter], events: list[IncomingEvent], results: list[AppendResult], started: float
    ) -> None:
        if self._on_batch is not None:
            self._on_batch(len(batch), time.perf_counter() - started)
        _resolve(batch, results)
        for hook in self.after_commit:
            try:
                hook(events, results)
            except Exception as exc:  # committed and answered already: a hook cannot undo that
                log.error("after-commit hook failed", error=type(exc).__name__)

    def _isolate(self, batch: list[Waiter], started: float) -> None:
        """Commit the batch in halves, down to the single events that fail alone (refused); the rest
        commits. A lost database on the way fails what is not committed yet."""
        pending = _halves(batch)  # a stack: the first half is on top
        while pending:
            part = pending.pop()
            if not part:
                continue
            events = [w[0] for w in part]
            try:
                results = event_log.append_batch(self._connection(), events, self.in_transaction, defer_counts=True)
            except Exception as exc:
                if not _event_at_fault(exc) or not self._alive():
                    log.error("commit failed", error=type(exc).__name__, batch=len(part))
                    self._drop_connection()
                    unavailable = CommitFailed("the event log is unavailable")
                    _resolve([w for p in (part, *pending) for w in p], None, unavailable)
                    return
                if len(part) == 1:
                    log.warning("event refused by the log", error=type(exc).__name__, event_type=part[0][0].event[:100])
                    _resolve(part, [EventRefused(exc)])
                else:
                    pending += _halves(part)
                continue
            self._committed(part, events, results, started)

    def _alive(self) -> bool:
        """Does the writer's connection still answer? (after a failed transaction, rolled back)"""
        if self._conn is None:
            return False
        try:
            self._conn.execute(Q.committer_alive)
        except Exception:
            return False
        return True

    def _commit_work(self, work: list[Work]) -> None:
        try:
            conn = self._connection()
            with conn.transaction():
                outputs = _run_work(conn, work)
        except Exception as exc:
            self._drop_connection()
            _settle(work, [], exc)
            return
        _settle(work, outputs, None)

    def _drop_connection(self) -> None:
        if self._conn is not None:
            # Already broken; a new one is made for the next batch.
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


def _halves(part: list[Waiter]) -> list[list[Waiter]]:
    """[second half, first half]: popped from the end, the first half is tried first."""
    mid = len(part) // 2
    return [part[mid:], part[:mid]]


def _run_work(conn: Connection, work: list[Work]) -> list[tuple[bool, Any]]:
    """Each write under its own savepoint: one that fails is undone alone, the batch still commits."""
    outputs: list[tuple[bool, Any]] = []
    for write, _ in work:
        conn.execute(Q.committer_savepoint)
        try:
            outputs.append((True, write(conn)))
        except Exception as exc:
            conn.execute(Q.committer_rollback_savepoint)
            outputs.append((False, exc))
        conn.execute(Q.committer_release_savepoint)
    return outputs


def _settle(work: list[Work], outputs: list[tuple[bool, Any]], error: Exception | None) -> None:
    """After COMMIT (or its failure): resolve each submitted write's future."""
    for i, (_, fut) in enumerate(work):
        if error is not None or i >= len(outputs):
            fut.set_exception(error or CommitFailed("not run"))
        elif outputs[i][0]:
            fut.set_result(outputs[i][1])
        else:
            fut.set_exception(outputs[i][1])


def _resolve(
    batch: list[Waiter], results: Sequence[AppendResult | Exception] | None, error: Exception | None = None
) -> None:
    """Wake each event loop once for the whole batch: each waiter gets its result, or `error`."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
    for i, (_, fut, loop) in enumerate(batch):
        by_loop.setdefault(loop, []).append((fut, error if results is None else results[i]))
    for loop, items in by_loop.items():
        try:
            loop.call_soon_threadsafe(_set_all, items)
        except RuntimeError:  # that loop is closed: nobody is waiting any more
            continue


def _set_all(items: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for fut, value in items:
        if fut.done():
            continue
        if isinstance(value, Exception):
            fut.set_exception(value)
        else:
            fut.set_result(value)
