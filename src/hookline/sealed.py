"""Where sealed secrets are stored (each provider names its columns) and re-sealing them all with the
first key of HOOKLINE_SECRET_KEY: `hookline secrets rotate`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the Provider interface imports this module: keep it light
    from hookline.secretbox import SecretBox
    from hookline.store.engine import Database


@dataclass(frozen=True)
class SealedColumn:
    """A column of SecretBox values (NULL allowed) and the column that names its rows."""

    table: str
    key: str
    column: str


@dataclass
class RotateReport:
    resealed: int = 0
    current: int = 0
    unopened: list[str] = field(default_factory=list)  # "table key" of values no key opens


def rotate(db: Database, box: SecretBox, columns: list[SealedColumn]) -> RotateReport:
    """Re-seal every value not sealed with the first key, or nothing at all when some value opens
    with none of the keys (a wrong key list: writing the rest under it would lose them later).

    The (slow) sealing happens outside any transaction; each write only lands when the value is
    still the one read, so a credential changed meanwhile is never overwritten with an old one."""
    from hookline.secretbox import SecretBoxError
    from hookline.store.tables import column_values, replace_value

    report = RotateReport()
    planned: list[tuple[SealedColumn, list[tuple[str, object, str]]]] = []
    for col in columns:
        with db.connection() as conn:
            rows = column_values(conn, col.table, col.key, col.column)
        updates = []
        for key, stored in rows:
            try:
                fresh = box.reseal(stored)
            except SecretBoxError:
                report.unopened.append(f"{col.table} {key}")
                continue
            if fresh is None:
                report.current += 1
            else:
                updates.append((fresh, key, stored))
        planned.append((col, updates))
    if report.unopened:
        return report
    with db.connection() as conn, conn.transaction():
        for col, updates in planned:
            for fresh, key, stored in updates:
                report.resealed += replace_value(conn, col.table, col.key, col.column, key, stored, fresh)
    return report
