"""Automations: rules that act on events (docs/automations.md).

A rule (`on` patterns, an `if` in CEL, optional `window` and `hours`, `steps`) lives in the `rules`
table, managed from a TOML file. The matcher (a pipeline handler) records a run per rule and matching
event in the worker's transaction; the executor (a pipeline loop) runs its steps under a lease, with
retries, outside any transaction. Actions come from the core (http, alert, notify) and from each
provider's `actions()` hook.
"""

from __future__ import annotations

from pathlib import Path

from hookline.store.migrations import MigrationSource


def migration_source() -> MigrationSource:
    return MigrationSource("automations", Path(__file__).parent / "migrations")
