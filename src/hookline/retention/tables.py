"""What can be exported: the event log, and the projections providers offer (Provider.exports)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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
    # Fills in, in place, what a page of rows (as the engine gave them) keeps in other tables or stores
    # packed (Aircall calls: their data made whole JSON again); None: the rows as they are.
    expand: Callable[[Connection, list[dict[str, Any]]], None] | None = None
    # The kind of a column in the files where `expand` makes it another than its declared type says
    # (Aircall calls' data: bytea on PostgreSQL, JSON text in the files on both engines).
    kinds: Mapping[str, ColumnKind] = field(default_factory=dict)


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


def columns(conn: Connection, table: str,
            kinds: Mapping[str, ColumnKind] | None = None) -> list[tuple[str, ColumnKind]]:
    """The table's columns in order, with the kind of value each holds (from the declared types, but
    `kinds` where given)."""
    given = kinds or {}
    return [(name, given.get(name) or _kind(declared)) for name, declared in table_columns(conn, table)]
