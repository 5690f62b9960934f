"""Forwarding: events sent on to the user's own HTTP endpoints ("destinations").

Each new event that matches a destination gets a row in `deliveries`, written in the same group-commit
transaction as the event (fanout.py). The dispatcher (dispatcher.py) claims due rows, POSTs a signed
Standard Webhooks request, and records the outcome: retries with backoff, a circuit breaker per
destination, dead letters, optional per-resource ordering. The table is the queue, so everything
survives restarts and several dispatchers can share one PostgreSQL database.
"""

from __future__ import annotations

from pathlib import Path

from hookline.store.migrations import MigrationSource


def migration_source() -> MigrationSource:
    return MigrationSource("forwarding", Path(__file__).parent / "migrations")
