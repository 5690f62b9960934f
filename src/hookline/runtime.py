"""The Runtime: what a running hookline process holds (settings, database, writer, metrics, providers).

A plain container: it imports nothing at run time, so every part of hookline may take one without
an import cycle. `hookline.assembly.create_runtime` fills it (the committer with the hooks every
writer of the log runs); providers receive it in their hooks, so they never reach for globals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookline.config import Settings
    from hookline.metrics import Metrics
    from hookline.pipeline.changes import ChangeFeed
    from hookline.pipeline.handlers import EventHandler
    from hookline.pipeline.loops import LoopFactory
    from hookline.pipeline.wakeup import Doorbell
    from hookline.provider import Provider
    from hookline.store.committer import Committer
    from hookline.store.engine import Database
    from hookline.store.migrations import MigrationSource


@dataclass
class Runtime:
    settings: Settings
    db: Database
    metrics: Metrics
    committer: Committer
    providers: tuple[Provider, ...]
    # Rung by the committer when it enqueued jobs, so an in-process worker starts at once.
    doorbell: Doorbell
    # Announced by workers after each committed batch; live views (the dashboard) subscribe.
    changes: ChangeFeed
    # The core's and these providers' migrations (/readyz checks that none is pending).
    migration_sources: list[MigrationSource]
    # The core's long-running loops (pipeline/loops.py LoopGroup adds each provider's).
    loops: list[LoopFactory] = field(default_factory=list)
    # The core's event handlers, run after each provider's on that provider's events (pipeline/handlers.py).
    core_handlers: list[Callable[[Runtime], EventHandler]] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    # Free-form slots where subsystems keep their per-process state (e.g. a provider's token cache).
    state: dict[str, Any] = field(default_factory=dict)
