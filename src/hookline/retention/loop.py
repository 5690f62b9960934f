"""The retention loop (assembly.CORE_LOOPS, in `serve` and `hookline worker`): every `interval_seconds`,
each active policy is applied in batches of `batch_size` rows, one short transaction each, with a
pause between them so the group committer never waits long for the write lock. On SQLite the freed
pages are then handed back to the file system (incremental vacuum, in small steps too).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import structlog

from hookline.retention.policies import Policy, cutoff, expired_months, policies, purge_batch, purge_month_batch
from hookline.retention.settings import RetentionSettings, load_retention_settings
from hookline.store import maintenance, partitions
from hookline.store.engine import Connection, Database

if TYPE_CHECKING:
    from hookline.pipeline.loops import Loop
    from hookline.provider import Provider
    from hookline.runtime import Runtime

log = structlog.get_logger(__name__)
VACUUM_PAGES = 2000  # pages freed per step of the incremental vacuum (8 MB of 4 KiB pages)


def purge_policy(
    conn: Connection,
    policy: Policy,
    before: float,
    cfg: RetentionSettings,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Apply one policy until nothing old and done is left (or asked to stop); returns rows deleted.

    On PostgreSQL the events policy first drops each month whose events are all expired: their done
    events' keys in batches, then the partition (when no key is left). What stays (the partly expired
    month, the default partition, events still needed) is deleted row by row, as everywhere else."""
    total = 0
    for month in expired_months(conn, policy, before):
        while not should_stop():
            n = purge_month_batch(conn, policy, month, cfg.batch_size)
            total += n
            if n < cfg.batch_size:
                break
            time.sleep(cfg.pause_seconds)
        if should_stop():
            return total
        if partitions.drop_month(conn, month):
            log.info("retention dropped a month of events", partition=month.name)
    while not should_stop():
        n = purge_batch(conn, policy, before, cfg.batch_size)
        total += n
        if n < cfg.batch_size:
            break
        time.sleep(cfg.pause_seconds)
    return total


def incremental_vacuum(conn: Connection, should_stop: Callable[[], bool] = lambda: False) -> int:
    """SQLite: give free pages back to the file system in steps; returns the pages freed."""
    if not maintenance.reclaims_incrementally(conn):
        return 0
    freed = 0
    while not should_stop():
        free = maintenance.free_pages(conn)
        if free == 0:
            break
        maintenance.release_free_pages(conn, VACUUM_PAGES)
        left = maintenance.free_pages(conn)
        if left >= free:  # no progress (another connection holds the pages): next pass
            break
        freed += free - left
        time.sleep(0.01)
    return freed


def run_pass(
    db: Database,
    cfg: RetentionSettings,
    providers: Iterable[Provider],
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[str, int]:
    """One retention pass over every active policy (the core's and `providers`'); returns rows deleted per policy."""
    done: dict[str, int] = {}
    conn = db.connect()
    try:
        now = time.time()
        partitions.create_ahead(conn, now)
        for policy in policies(providers):
            before = cutoff(cfg, policy, now)
            if before is None or should_stop():
                continue
            done[policy.name] = purge_policy(conn, policy, before, cfg, should_stop)
        if sum(done.values()):
            incremental_vacuum(conn, should_stop)
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
                done = await asyncio.to_thread(run_pass, runtime.db, cfg, runtime.providers, stop.is_set)
                if any(done.values()):
                    log.info("retention pass", deleted=done)
            except Exception as exc:  # a failed pass is retried next interval; nothing is half-deleted
                log.warning("retention pass failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), cfg.interval_seconds)

    return run
