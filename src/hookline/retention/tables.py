"""What can be exported: the event log, and the projections providers offer (Provider.exports)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from hookline.store.engine import Connection
from hookline.store.tables import table_columns

if TYPE_CHECKING:
    from hookline.provider import Provider

ColumnKind = Literal["int", "float", "bool", "text", "bytes"]


@dataclass(frozen=True)
class ExportTable:
    """A table exported by day of `time_column` (unix seconds), in (time, key) order."""

    kind: str  # the CLI's name: events, calls, bookings, board-items
    table: str
    time_column: str
    key_columns: tuple[str, ...]
    # Fills in, in place, what a page of encoded rows keeps in other tables (Aircall calls: their data
    # made whole again from the parts stored once); None: the rows as they are.
    expand: Callable[[Connection, list[dict[str, Any]]], None] | None = None


EVENTS = ExportTable("events", "events", "received_at", ("id",))


def export_tables(providers: Iterable[Provider]) -> dict[str, ExportTable]:
    """The event log, then each provider's tables (Provider.exports), by kind."""
    found = {EVENTS.kind: EVENTS}
    for provider in providers:
        for table in provider.exports():
            found[table.kind] = table
    return found


def _kind(declared: str) -> ColumnKind:
    t = declared.lower()
    if "int" in t:
        return "int"
    if "double" in t or "real" in t or "float" in t or "numeric" in t:
        return "float"
    if "bool" in t:
        return "bool"
    if "blob" in t or "bytea" in t:
        return "bytes"
    return "text"


def columns(conn: Connection, table: str) -> list[tuple[str, ColumnKind]]:
    """The table's columns in order, with the kind of value each holds (from the declared types)."""
    return [(name, _kind(declared)) for name, declared in table_columns(conn, table)]
