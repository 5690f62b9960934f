"""Database URLs, connections and the small dialect differences between SQLite and PostgreSQL.

SQL in hookline is written once with `?` placeholders; `Connection.execute` rewrites them to `%s`
for psycopg. Statements live in query files (`store/queries.py`); `execute` takes a `Query` and
uses its text for this connection's engine. Keep literal `?` and `%` out of SQL text (pass them as parameters).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from hookline.store.filelock import FileLock
    from hookline.store.queries import Query

Dialect = Literal["sqlite", "postgresql"]
Params = Sequence[Any] | None


class DatabaseError(Exception):
    """A database could not be reached or used; the message names no secret."""


@dataclass(frozen=True)
class DatabaseURL:
    dialect: Dialect
    url: str
    path: Path | None = None  # SQLite only

    @classmethod
    def parse(cls, url: str) -> DatabaseURL:
        if url.startswith("sqlite:///"):
            raw = url[len("sqlite:///") :]
            if not raw:
                raise ValueError("sqlite URL needs a path: sqlite:///data/hookline.sqlite3")
            return cls("sqlite", url, Path(raw))
        if url.startswith(("postgresql://", "postgres://")):
            return cls("postgresql", url)
        raise ValueError("database URL must start with sqlite:/// or postgresql://")

    def redacted(self) -> str:
        """The URL with any password replaced, safe for logs and errors."""
        return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", self.url)


def _to_pg(sql: str) -> str:
    return sql.replace("?", "%s")


class FairLock:
    """A first-come, first-served lock (threading.Lock lets a releasing thread take it straight back)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._cond:
            ticket = self._next
            self._next += 1
            while ticket != self._serving:
                self._cond.wait()

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()


_sqlite_write_locks: dict[str, FairLock] = {}
_sqlite_write_locks_guard = threading.Lock()


def sqlite_write_lock(path: Path) -> FairLock:
    """The in-process queue for an SQLite file's write lock.

    SQLite makes a blocked writer sleep and retry (1, 2, 5, 10... up to 100 ms), so two writers of one
    process (the group committer and the pipeline worker) would pay those sleeps on every collision;
    queueing in-process first, they hand the lock over at once and in turn.
    """
    key = str(path.resolve())
    with _sqlite_write_locks_guard:
        return _sqlite_write_locks.setdefault(key, FairLock())


class Connection:
    """A thin wrapper giving both drivers the same execute/fetch surface."""

    def __init__(self, raw: Any, dialect: Dialect, write_lock: FairLock | None = None) -> None:
        self.raw = raw
        self.dialect = dialect
        self.write_lock = write_lock

    def execute(self, sql: str | Query, params: Params = None) -> Any:
        if not isinstance(sql, str):
            sql = sql.text(self.dialect)
        if self.dialect == "postgresql":
            return self.raw.execute(_to_pg(sql), params)
        return self.raw.execute(sql, params or ())

    def fetchone(self, sql: str | Query, params: Params = None) -> Any:
        return self.execute(sql, params).fetchone()

    def fetchall(self, sql: str | Query, params: Params = None) -> list[Any]:
        return list(self.execute(sql, params).fetchall())

    def scalar(self, sql: str | Query, params: Params = None) -> Any:
        row = self.fetchone(sql, params)
        return None if row is None else row[0]

    def executescript(self, script: str) -> None:
        if self.dialect == "postgresql":
            self.raw.execute(script)
        else:
            self.raw.executescript(script)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction; SQLite takes the write lock at BEGIN so it never has to upgrade."""
        if self.dialect == "postgresql":
            with self.raw.transaction():
                yield self
            return
        with self.write_lock or contextlib.nullcontext():
            self.raw.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self.raw.execute("ROLLBACK")
                raise
            self.raw.execute("COMMIT")

    def close(self) -> None:
        if self.dialect == "sqlite":
            optimize(self.raw)
        self.raw.close()


def connect_sqlite(path: Path, *, writer: bool = False) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN/COMMIT ourselves (autocommit otherwise).
    new = not path.exists() or path.stat().st_size == 0
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    if new:
        # Only a new, empty file takes it (the retention loop then shrinks the file); an existing
        # database switches with `hookline db vacuum`. Not set on others: it would take a lock.
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    # PRAGMA optimize's ANALYZE reads at most ~400 rows per index: statistics in milliseconds.
    conn.execute("PRAGMA analysis_limit=400")
    if writer:
        conn.execute("PRAGMA wal_autocheckpoint=4000")
    return conn


# How often a long-lived SQLite connection (a pooled reader lives as long as its thread) runs
# PRAGMA optimize; it also runs when a connection closes and after migrations.
OPTIMIZE_EVERY = 3600.0


def optimize(raw: sqlite3.Connection) -> None:
    """PRAGMA optimize: ANALYZE the tables whose statistics the queries of this connection missed, so
    the planner keeps choosing the right index as tables grow (SQLite never gathers them by itself)."""
    # It may write (sqlite_stat1): never wait long for a busy writer, it runs again next time.
    raw.execute("PRAGMA busy_timeout=100")
    try:
        with contextlib.suppress(sqlite3.Error):
            raw.execute("PRAGMA optimize")
    finally:
        raw.execute("PRAGMA busy_timeout=30000")


def connect_postgres(url: str) -> Any:
    import psycopg

    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"cannot connect to PostgreSQL at {DatabaseURL.parse(url).redacted()}") from exc


class Database:
    """Connections for one database URL: `connect()` for a dedicated one, `connection()` from a pool."""

    def __init__(self, url: str) -> None:
        self.url = DatabaseURL.parse(url)
        self.dialect: Dialect = self.url.dialect
        self._local = threading.local()
        self._pool: Any = None
        self._lock = threading.Lock()

    def connect(self, *, writer: bool = False) -> Connection:
        """A new connection owned by the caller (close it)."""
        if self.dialect == "sqlite":
            assert self.url.path is not None
            return Connection(
                connect_sqlite(self.url.path, writer=writer), "sqlite", sqlite_write_lock(self.url.path)
            )
        return Connection(connect_postgres(self.url.url), "postgresql")

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A pooled connection for short reads and writes (autocommit unless in `transaction()`)."""
        if self.dialect == "sqlite":
            conn = getattr(self._local, "conn", None)
            now = time.monotonic()
            if conn is None:
                conn = self.connect()
                self._local.conn = conn
                self._local.optimized = now
            elif now - self._local.optimized > OPTIMIZE_EVERY:
                optimize(conn.raw)
                self._local.optimized = now
            yield conn
            return
        pool = self._get_pool()
        with pool.connection() as raw:
            yield Connection(raw, "postgresql")

    def _get_pool(self) -> Any:
        with self._lock:
            if self._pool is None:
                from psycopg_pool import ConnectionPool

                self._pool = ConnectionPool(
                    self.url.url, min_size=1, max_size=10, kwargs={"autocommit": True}, open=True
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class AlreadyServing(Exception):
    pass


def hold_sqlite_lock(path: Path) -> FileLock:
    """Take the one-writer lock of an SQLite database for this process's lifetime (keep the result).

    SQLite allows one writer; two `serve` processes on one file would serialise every commit on
    the database lock, so the second is refused instead.
    """
    from hookline.store.filelock import FileLock

    lock = FileLock(path.with_name(path.name + ".lock"))
    if not lock.acquire():
        raise AlreadyServing(f"another hookline process is serving {path}")
    return lock
