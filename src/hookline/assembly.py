"""Wiring in one place: what every writer of the event log runs, the migration sources, the Runtime.

Every writer of the log (serve's committer, a backfill from the CLI, `hookline worker`'s runtime)
must run the same hooks in the transaction that stores the events, or some events would never be
projected nor forwarded: a job per new event (pipeline/jobs.py) and a delivery per matching
destination (forwarding/fanout.py). `log_hooks()` is that list, `append_direct()` uses it outside
the committer, and `create_runtime()` installs it on the committer with the in-process wake-ups, and lists the core's
loops and event handlers (the pipeline runs them without importing the features they belong to).

Callers pass the providers (`hookline.providers.registry.providers()`, or a test's own): this module
sits below the providers, which append through it, so it never imports their registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hookline.automations import migration_source as automations_source
from hookline.automations.executor import executor_loop
from hookline.automations.matcher import RuleMatcher
from hookline.config import Settings
from hookline.forwarding import migration_source as forwarding_source
from hookline.forwarding.dispatcher import WAKE_KEY
from hookline.forwarding.fanout import FanOut
from hookline.metrics import Metrics
from hookline.oauth import migration_source as oauth_source
from hookline.pipeline import jobs
from hookline.pipeline import migrations as pipeline_migrations
from hookline.pipeline.changes import ChangeFeed
from hookline.pipeline.loops import Loop, LoopFactory, worker_loop
from hookline.pipeline.wakeup import Doorbell
from hookline.provider import Provider
from hookline.retention.loop import retention_loop as retention_factory
from hookline.runtime import Runtime
from hookline.store.committer import Committer
from hookline.store.engine import Connection, Database
from hookline.store.events import BatchHook, append_batch
from hookline.store.migrations import MigrationSource, core_source, partitions_source
from hookline.types import AppendResult, IncomingEvent


def migration_sources(providers: Iterable[Provider]) -> list[MigrationSource]:
    """Core first (the event log, the pipeline's jobs, forwarding, automations, OAuth, then PostgreSQL's monthly
    partitions of the log, which move those components' foreign keys), then each provider's own."""
    sources = [
        core_source(), pipeline_migrations(), forwarding_source(), automations_source(), oauth_source(),
        partitions_source(),
    ]
    for p in providers:
        src = p.migrations()
        if src is not None:
            sources.append(src)
    return sources


def automations_loop(runtime: Runtime) -> Loop:
    """The executor of the rules' runs (automations/executor.py)."""
    return executor_loop(runtime)


def retention_loop(runtime: Runtime) -> Loop:
    """Retention policies applied in small batches (retention/loop.py); idle when every policy keeps all."""
    return retention_factory(runtime)


# Run by `serve` (unless --no-worker) and `hookline worker`, before each provider's Provider.loops().
CORE_LOOPS: list[LoopFactory] = [worker_loop, automations_loop, retention_loop]


def log_hooks(wake_workers: Callable[[], None] | None = None, fanout: FanOut | None = None) -> list[BatchHook]:
    """The hooks every writer of the log runs in the transaction that stores the events: a job per new
    event (`wake_workers` rings an in-process worker), then a delivery per matching destination."""
    return [jobs.enqueue_hook(wake_workers), fanout if fanout is not None else FanOut()]


def append_direct(conn: Connection, events: list[IncomingEvent]) -> list[AppendResult]:
    """Append without `serve`'s committer (backfills from the CLI, tools, tests), in one transaction:
    the events, their jobs and their deliveries. Workers and dispatchers in other processes are woken
    by NOTIFY on PostgreSQL, or poll."""
    return append_batch(conn, events, log_hooks())


def create_runtime(settings: Settings, providers: Iterable[Provider]) -> Runtime:
    """A Runtime whose committer runs `log_hooks()`, waking this process's worker and dispatcher."""
    provs = tuple(providers)
    db = Database(settings.database_url)
    metrics = Metrics()
    committer = Committer(db, batch_max=settings.commit_batch_max, on_batch=metrics.observe_batch)
    runtime = Runtime(
        settings, db, metrics, committer, provs, Doorbell(), ChangeFeed(), migration_sources(provs)
    )

    def wake_dispatcher() -> None:
        wake = runtime.state.get(WAKE_KEY)
        if wake is not None:
            wake()

    runtime.loops.extend(CORE_LOOPS)
    runtime.core_handlers.append(RuleMatcher)  # the rule matcher, after each provider's handlers
    fanout = FanOut(wake_dispatcher)
    committer.in_transaction.extend(log_hooks(runtime.doorbell.ring, fanout))
    committer.after_commit.append(fanout.after_commit)
    return runtime
