"""The retention loop (assembly.CORE_LOOPS, in `serve` and `hookline worker`): every `interval_seconds`,
each active policy is applied in batches, one short transaction each, so the group committer never
waits long for the write lock:

- a batch is sized by time: its size adapts so that a transaction lasts about `batch_seconds`
  (a thousand events may take 80 ms to delete on a loaded machine, a hundred 1 ms), up to `batch_size`;
- in `serve`, a batch starts only when the committer is idle (nothing queued, no batch committing),
  waiting at most IDLE_WAIT: ingest has the writer first, the purge the gaps between its batches;
- `pause_seconds` between batches, or as long as the batch took if longer (the purge never has more
  than half of the writer);
- the purge's commits skip the fsync (Connection.defer_sync): still atomic, and
  a deletion a power cut undoes is redone next pass.

On SQLite the freed pages are then handed back to the file system (incremental vacuum), in steps
sized and scheduled the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import structlog

from hookline.retention.policies import (
    Policy,
    cutoff,
    expired_months,
    policies,
    policy_cutoff,
    purge_batch,
    purge_month_batch,
)
from hookline.retention.settings import RetentionSettings, load_retention_settings
from hookline.store import maintenance, partitions
from hookline.store.engine import Connection, Database

if TYPE_CHECKING:
    from hookline.pipeline.loops import Loop
    from hookline.provider import Provider
    from hookline.runtime import Runtime

log = structlog.get_logger(__name__)
FIRST_BATCH = 100  # rows of a policy's first batch, before its time is known
MIN_BATCH = 100  # below this a transaction's own cost (PostgreSQL's round trips, commit) dominates
VACUUM_PAGES = (50, 2000)  # pages freed per step of the incremental vacuum: first, most (8 MB of 4 KiB pages)
IDLE_WAIT = 0.25  # longest wait for the committer to be idle: under constant ingest the purge still moves
IDLE_POLL = 0.002

Idle = Callable[[], bool]
Stop = Callable[[], bool]


def _always() -> bool:
    return True


def _never() -> bool:
    return False


def wait_for_idle(idle: Idle, should_stop: Stop) -> None:
    """Until the writer is idle (at most IDLE_WAIT): a batch started then delays no ingest batch."""
    deadline = time.monotonic() + IDLE_WAIT
    while not idle() and not should_stop() and time.monotonic() < deadline:
        time.sleep(IDLE_POLL)


def next_size(size: int, elapsed: float, target: float, most: int, least: int = MIN_BATCH) -> int:
    """The next batch's size, scaled so it lasts about `target` seconds (at most doubling), within [least, most]."""
    if target <= 0:
        return most
    scaled = int(size * target / max(elapsed, 1e-4))
    return min(most, max(least, min(scaled, 2 * size)))


def purge_policy(
    conn: Connection,
    policy: Policy,
    before: float,
    cfg: RetentionSettings,
    should_stop: Stop = _never,
    idle: Idle = _always,
) -> int:
    """Apply one policy until nothing old and done is left (or asked to stop); returns rows deleted.

    On PostgreSQL the events policy first drops each month whose events are all expired: their done
    events' keys in batches, then the partition (when no key is left); its cutoff is a month's start
    (policy_cutoff). What else is older (the default partition, a month holding an event still needed)
    is deleted row by row, as everywhere else."""
    total = 0
    for month in expired_months(conn, policy, before):
        total += _in_batches(functools.partial(purge_month_batch, conn, policy, month), cfg, should_stop, idle)
        if should_stop():
            return total
        if partitions.drop_month(conn, month):
            log.info("retention dropped a month of events", partition=month.name)
    return total + _in_batches(functools.partial(purge_batch, conn, policy, before), cfg, should_stop, idle)


def _in_batches(delete: Callable[[int], int], cfg: RetentionSettings, should_stop: Stop, idle: Idle) -> int:
    """Call `delete(size)` (one transaction deleting at most `size` rows) until it deletes fewer: each
    batch when the writer is idle, sized to last about `batch_seconds`, followed by a rest."""
    total = 0
    size = min(cfg.batch_size, FIRST_BATCH) if cfg.batch_seconds > 0 else cfg.batch_size
    while not should_stop():
        wait_for_idle(idle, should_stop)
        started = time.perf_counter()
        n = delete(size)
        total += n
        if n < size:
            break
        elapsed = time.perf_counter() - started
        size = next_size(size, elapsed, cfg.batch_seconds, cfg.batch_size)
        time.sleep(max(cfg.pause_seconds, elapsed))  # a slow batch (a loaded machine) is followed by as long a rest
    return total


def incremental_vacuum(
    conn: Connection, cfg: RetentionSettings, should_stop: Stop = _never, idle: Idle = _always
) -> int:
    """SQLite: give free pages back to the file system in steps; returns the pages freed."""
    if not maintenance.reclaims_incrementally(conn):
        return 0
    freed = 0
    pages = VACUUM_PAGES[0]
    while not should_stop():
        free = maintenance.free_pages(conn)
        if free == 0:
            break
        wait_for_idle(idle, should_stop)
        started = time.perf_counter()
        maintenance.release_free_pages(conn, pages)
        elapsed = time.perf_counter() - started
        left = maintenance.free_pages(conn)
        if left >= free:  # no progress (another connection holds the pages): next pass
            break
        freed += free - left
        pages = next_size(pages, elapsed, cfg.batch_seconds, VACUUM_PAGES[1], VACUUM_PAGES[0])
        time.sleep(cfg.pause_seconds)
    return freed


def run_pass(
    db: Database,
    cfg: RetentionSettings,
    providers: Iterable[Provider],
    should_stop: Stop = _never,
    idle: Idle = _always,
) -> dict[str, int]:
    """One retention pass over every active policy (the core's and `providers`'); returns rows deleted per policy."""
    done: dict[str, int] = {}
    conn = db.connect()
    try:
        conn.defer_sync()
        now = time.time()
        partitions.create_ahead(conn, now)
        for policy in policies(providers):
            before = policy_cutoff(conn, cfg, policy, now)
            if before is None or should_stop():
                continue
            done[policy.name] = purge_policy(conn, policy, before, cfg, should_stop, idle)
        if sum(done.values()):
            incremental_vacuum(conn, cfg, should_stop, idle)
    finally:
        conn.close()
    return done


def create_partitions(db: Database) -> int:
    """PostgreSQL: this month's partition of the events table and the next ones, where missing."""
    with db.connection() as conn:
        return partitions.create_ahead(conn)


def retention_loop(runtime: Runtime) -> Loop:
    cfg = load_retention_settings()
    active = [p.name for p in policies(runtime.providers) if cutoff(cfg, p) is not None]
    committer = runtime.committer

    def idle() -> bool:
        """The committer of this process (serve's) has nothing to write; elsewhere always."""
        return not committer.running or committer.idle

    async def run(stop: asyncio.Event) -> None:
        if not active:  # nothing to delete; PostgreSQL's next monthly partitions are still created ahead
            while not stop.is_set():
                try:
                    await asyncio.to_thread(create_partitions, runtime.db)
                except Exception as exc:  # retried next interval; an event without its partition lands in the default
                    log.warning("creating partitions failed", error=type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), cfg.interval_seconds)
            return
        log.info("retention loop started", policies=active, interval=cfg.interval_seconds)
        while not stop.is_set():
            try:
                done = await asyncio.to_thread(run_pass, runtime.db, cfg, runtime.providers, stop.is_set, idle)
                if any(done.values()):
                    log.info("retention pass", deleted=done)
            except Exception as exc:  # a failed pass is retried next interval; nothing is half-deleted
                log.warning("retention pass failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), cfg.interval_seconds)

    return run
