"""Versioned upserts: the building block of order-independent projections.

A VersionedColumns names a table, its key, a group of columns and the three version columns that
guard them: (timestamp, rank, key). A row is written only when its version is greater than the
stored one, so applying any set of snapshots in any order, any number of times, leaves the greatest
one: the result of a `max`, which is order-independent by nature. Within a batch the rows are first
reduced to the greatest per key (fewer writes) and sorted by key (a stable lock order, so two
workers on PostgreSQL cannot deadlock on the same rows). A version time must be plausible
(timeparse.plausible): projections fall back to the time of receipt rather than write another.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from hookline.pipeline.handlers import Unprocessable
from hookline.store.engine import Connection
from hookline.timeparse import EARLIEST, LATEST, plausible

Version = tuple[float, int, str]


def digest(data: bytes) -> str:
    """The last tie-breaker of a version: any deterministic function of the snapshot works."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def q(name: str) -> str:
    return f'"{name}"'


@dataclass(frozen=True)
class VersionedColumns:
    table: str
    keys: tuple[str, ...]
    columns: tuple[str, ...]
    version: tuple[str, str, str] = ("v_ts", "v_rank", "v_key")

    @cached_property
    def conflict(self) -> str:
        updates = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in (*self.columns, *self.version))
        new = ", ".join(f"excluded.{q(c)}" for c in self.version)
        old = ", ".join(f"{self.table}.{q(c)}" for c in self.version)
        # A stored version time that no plausible one can beat (Infinity, NaN, which SQLite keeps as
        # NULL, 1e20: written by an older version) is overwritten rather than kept forever.
        ts = f"{self.table}.{q(self.version[0])}"
        stale = f"{ts} IS NULL OR {ts} < {EARLIEST!r} OR {ts} >= {LATEST!r}"
        return (f"ON CONFLICT ({', '.join(map(q, self.keys))}) DO UPDATE SET {updates}"
                f" WHERE ({new}) > ({old}) OR {stale}")

    def check(self, row: Sequence[Any]) -> None:
        """Refuse a row whose version time is not plausible: a NaN compares neither way (the result
        would depend on the order of events) and an infinity would win every comparison for good."""
        if plausible(row[-3]) is None:
            raise Unprocessable(f"{self.table}: version time {row[-3]!r} is not a plausible unix time")

    def write(self, conn: Connection, rows: Iterable[Sequence[Any]]) -> int:
        """Upsert rows laid out as keys + columns + version; returns how many were sent."""
        nk = len(self.keys)
        best: dict[tuple[Any, ...], Sequence[Any]] = {}
        for row in rows:
            self.check(row)
            key = tuple(row[:nk])
            held = best.get(key)
            if held is None or tuple(row[-3:]) > tuple(held[-3:]):
                best[key] = row
        if best:
            insert_many(conn, self.table, (*self.keys, *self.columns, *self.version),
                        [best[k] for k in sorted(best)], self.conflict)
        return len(best)


def insert_many(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], tail: str = ""
) -> None:
    """INSERT many rows in one statement (Connection.insert_many: arrays on PostgreSQL, executemany on
    SQLite). Rows must not repeat a conflict key (PostgreSQL refuses to update a row twice in one statement)."""
    conn.insert_many(table, columns, rows, tail)
