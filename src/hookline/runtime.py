"""The Runtime: what a running hookline process holds (settings, database, writer, metrics, providers).

Providers receive it in their hooks, so they never reach for globals.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from hookline.automations import migration_source as automations_source
from hookline.config import Settings
from hookline.forwarding import migration_source as forwarding_source
from hookline.ingest.committer import Committer
from hookline.metrics import Metrics
from hookline.oauth import migration_source as oauth_source
from hookline.pipeline import jobs
from hookline.pipeline import migrations as pipeline_migrations
from hookline.pipeline.changes import ChangeFeed
from hookline.pipeline.wakeup import Doorbell
from hookline.providers.base import Provider
from hookline.providers.registry import providers as registered_providers
from hookline.store.engine import Database
from hookline.store.migrations import MigrationSource, core_source


def migration_sources(provs: tuple[Provider, ...] | None = None) -> list[MigrationSource]:
    """Core first (the event log, the pipeline's jobs, forwarding, automations), then each provider's own migrations."""
    sources = [core_source(), pipeline_migrations(), forwarding_source(), automations_source(), oauth_source()]
    for p in provs if provs is not None else registered_providers():
        src = p.migrations()
        if src is not None:
            sources.append(src)
    return sources


@dataclass
class Runtime:
    settings: Settings
    db: Database
    metrics: Metrics
    committer: Committer
    providers: tuple[Provider, ...]
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    # Rung by the committer when it enqueued jobs, so an in-process worker starts at once.
    doorbell: Doorbell = field(default_factory=Doorbell)
    # Announced by workers after each committed batch; live views (the dashboard) subscribe.
    changes: ChangeFeed = field(default_factory=ChangeFeed)
    # Free-form slots where subsystems keep their per-process state (e.g. a provider's token cache).
    state: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        db = Database(settings.database_url)
        metrics = Metrics()
        committer = Committer(db, batch_max=settings.commit_batch_max, on_batch=metrics.observe_batch)
        runtime = cls(settings, db, metrics, committer, registered_providers())
        # Every new event gets its job in the transaction that stores it (the log is the queue).
        committer.in_transaction.append(jobs.enqueue_hook(runtime.doorbell.ring))
        return runtime
