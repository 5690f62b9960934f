"""Versioned upserts: the building block of order-independent projections.

A VersionedColumns names a table, its key, a group of columns and the three version columns that
guard them: (timestamp, rank, key). A row is written only when its version is greater than the
stored one, so applying any set of snapshots in any order, any number of times, leaves the greatest
one: the result of a `max`, which is order-independent by nature. Within a batch the rows are first
reduced to the greatest per key (fewer writes) and sorted by key (a stable lock order, so two
workers on PostgreSQL cannot deadlock on the same rows).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from hookline.store.engine import Connection

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
    def sql(self) -> str:
        names = [*self.keys, *self.columns, *self.version]
        updates = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in (*self.columns, *self.version))
        new = ", ".join(f"excluded.{q(c)}" for c in self.version)
        old = ", ".join(f"{self.table}.{q(c)}" for c in self.version)
        return (
            f"INSERT INTO {self.table} ({', '.join(map(q, names))}) VALUES ({', '.join('?' * len(names))})"
            f" ON CONFLICT ({', '.join(map(q, self.keys))}) DO UPDATE SET {updates}"
            f" WHERE ({new}) > ({old})"
        )

    def write(self, conn: Connection, rows: Iterable[Sequence[Any]]) -> int:
        """Upsert rows laid out as keys + columns + version; returns how many were sent."""
        nk = len(self.keys)
        best: dict[tuple[Any, ...], Sequence[Any]] = {}
        for row in rows:
            key = tuple(row[:nk])
            held = best.get(key)
            if held is None or tuple(row[-3:]) > tuple(held[-3:]):
                best[key] = row
        if best:
            executemany(conn, self.sql, [best[k] for k in sorted(best)])
        return len(best)


def executemany(conn: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """One statement for many rows (psycopg pipelines them into one round trip)."""
    if not rows:
        return
    if conn.dialect == "postgresql":
        with conn.raw.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), rows)
    else:
        conn.raw.executemany(sql, rows)
