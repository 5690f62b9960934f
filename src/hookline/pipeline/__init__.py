"""After the answer: the work queue in the database, the worker, and the handlers it runs.

The event log is the queue's source: every new event gets a job in the same transaction that stores
it, workers claim jobs in batches under a lease, run the providers' handlers, and delete the jobs
in the transaction that writes the handlers' effects.
"""

from __future__ import annotations

from pathlib import Path

from hookline.store.migrations import MigrationSource


def migrations() -> MigrationSource:
    return MigrationSource("pipeline", Path(__file__).parent / "migrations")
