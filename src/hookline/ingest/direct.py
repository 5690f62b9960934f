"""Appending events without `serve`'s committer (backfills run from the CLI, tools, tests).

Every writer of the log must run the same in-transaction hooks as the committer, or its events would
never be projected nor forwarded: a job per new event, and a delivery per matching destination.
"""

from __future__ import annotations

from hookline.forwarding.fanout import FanOut
from hookline.pipeline.jobs import enqueue_hook
from hookline.store.engine import Connection
from hookline.store.events import BatchHook, append_batch
from hookline.types import AppendResult, IncomingEvent


def pipeline_hooks() -> list[BatchHook]:
    """The hooks `Runtime.create` installs on the committer, without its in-process wake-ups
    (workers and dispatchers in other processes are woken by NOTIFY on PostgreSQL, or poll)."""
    return [enqueue_hook(), FanOut()]


def append_direct(conn: Connection, events: list[IncomingEvent]) -> list[AppendResult]:
    """One transaction: the events, their jobs and their deliveries."""
    return append_batch(conn, events, pipeline_hooks())
