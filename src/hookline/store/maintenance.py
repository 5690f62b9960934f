"""The database as storage: its size, giving free pages back, compacting (retention and `hookline db vacuum`).

What differs between the engines is here or in store/queries.<engine>.sql, so retention never asks
which engine it is on.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from hookline.store.engine import Connection, Database
from hookline.store.queries import load_queries

Q = load_queries(__package__)


@dataclass(frozen=True)
class Storage:
    size: int  # bytes the database takes
    free: int | None  # bytes of free pages inside it (SQLite); None where not known
    events_size: int | None  # bytes of the events table with its indexes (PostgreSQL); None where not known


def storage(conn: Connection) -> Storage:
    size, free, events_size = conn.fetchone(Q.storage_size)
    return Storage(int(size), None if free is None else int(free), None if events_size is None else int(events_size))


def reclaims_incrementally(conn: Connection) -> bool:
    """Whether free pages can be given back in steps (SQLite with auto_vacuum=INCREMENTAL)."""
    return conn.dialect == "sqlite" and int(conn.scalar(Q.auto_vacuum_mode)) == 2


def free_pages(conn: Connection) -> int:
    """Pages free inside the file (SQLite); 0 elsewhere."""
    return int(conn.scalar(Q.freelist_count)) if conn.dialect == "sqlite" else 0


def release_free_pages(conn: Connection, pages: int) -> None:
    """Give up to `pages` free pages back to the file system (SQLite's incremental vacuum; else nothing)."""
    if conn.dialect != "sqlite":
        return
    with conn.write_lock or contextlib.nullcontext():
        conn.executescript(Q.incremental_vacuum.fill(pages=str(int(pages))).sqlite)


def vacuum(db: Database, conn: Connection) -> str:
    """Compact the database (serve stopped); on SQLite also switch it to incremental auto-vacuum. Says what it did."""
    path = db.single_writer_file
    if path is None:
        conn.execute(Q.vacuum)
        return "vacuumed and analyzed the PostgreSQL database"
    before = path.stat().st_size
    conn.execute(Q.sqlite_new_file)
    conn.execute(Q.vacuum)
    after = path.stat().st_size
    mode = conn.scalar(Q.auto_vacuum_mode)
    return f"vacuumed {path}: {before:,} -> {after:,} bytes; auto_vacuum={'incremental' if mode == 2 else mode}"
