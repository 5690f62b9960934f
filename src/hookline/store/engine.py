"""Database URLs, connections and the small dialect differences between SQLite and PostgreSQL.

SQL in hookline is written once with `?` placeholders; `Connection.execute` rewrites them to `%s`
for psycopg. Statements live in query files (`store/queries.py`); `execute` takes a `Query` and
uses its text for this connection's engine. Keep literal `?` and `%` out of SQL text (pass them as parameters).
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hookline.store.queries import Query, load_queries

if TYPE_CHECKING:
    from hookline.store.filelock import FileLock

Q = load_queries(__package__)

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
_pg_types: dict[str, dict[str, str]] = {}
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
            self.raw.execute(Q.begin_write.sqlite)
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

    # --- What differs between the engines, asked by what it does (no module outside store/ asks
    # which engine it is on; issue 12). Statements whose text differs live in query-file overrides.

    def executemany(self, sql: str | Query, rows: Sequence[Params]) -> None:
        """One statement over many parameter rows (pipelined by psycopg; in-process on SQLite)."""
        if not rows:
            return
        if not isinstance(sql, str):
            sql = sql.text(self.dialect)
        if self.dialect == "postgresql":
            self.raw.cursor().executemany(_to_pg(sql), rows)
        else:
            self.raw.executemany(sql, rows)

    def execute_columns(self, query: Query, rows: Sequence[Sequence[Any]]) -> None:
        """Many rows through a query whose PostgreSQL text takes one array per column (`unnest(?::int8[], ...)`),
        executed once there; on SQLite its text takes one row and runs once per row."""
        if not rows:
            return
        if self.dialect == "postgresql":
            self.raw.execute(_to_pg(query.postgresql), [list(col) for col in zip(*rows, strict=True)])
        else:
            self.raw.executemany(query.sqlite, rows)

    def insert_many(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], tail: str = "") -> int:
        """INSERT rows into `table` (names already safe), `tail` after them (an ON CONFLICT clause): executemany on
        SQLite (in-process, cheap); one statement over arrays (unnest) on PostgreSQL, planned and executed once
        instead of once per row. Rows must not repeat a conflict key (PostgreSQL refuses to update a row twice).
        Returns how many rows were written (a row skipped by ON CONFLICT DO NOTHING is not)."""
        if not rows:
            return 0
        names = ", ".join(f'"{c}"' for c in columns)
        if self.dialect == "postgresql":
            types = self.column_types(table)
            arrays = ", ".join(f"%b::{types[c]}[]" for c in columns)  # binary: no per-string escaping
            sql = Q.insert_many.fill(table=table, names=names, values=arrays, tail=tail).postgresql
            return int(self.raw.execute(sql, [list(col) for col in zip(*rows, strict=True)]).rowcount)
        marks = ", ".join("?" * len(columns))
        return int(self.raw.executemany(Q.insert_many.fill(table=table, names=names, values=marks, tail=tail).sqlite,
                                        rows).rowcount)

    def column_types(self, table: str) -> dict[str, str]:
        """PostgreSQL column types of a table, read once per process (the same in every schema: one set of
        migrations); empty on SQLite, which needs none."""
        if self.dialect != "postgresql":
            return {}
        found = _pg_types.get(table)
        if found is None:
            rows = self.fetchall(Q.column_types, (table,))
            if not rows:
                raise LookupError(f"no table {table}")
            found = _pg_types[table] = {str(name): str(kind) for name, kind in rows}
        return found

    def array(self, values: Sequence[Any]) -> Any:
        """A list as one parameter: a Python list for PostgreSQL's `= ANY(?)`, JSON text for SQLite's
        `IN (SELECT value FROM json_each(?))` (the query file's two texts of one statement)."""
        if self.dialect == "postgresql":
            return list(values)
        return json.dumps(list(values))

    def notify(self, channel: str, payload: str = "") -> None:
        """Wake the listeners of `channel` in this schema once this transaction commits (PostgreSQL's NOTIFY,
        on `<channel>_<scope>`: channel_scope_statement); SQLite has no listeners across processes: a no-op
        (its in-process doorbells are rung by the caller)."""
        if self.dialect == "postgresql":
            self.execute(Q.notify, (channel, payload))

    def defer_sync(self) -> None:
        """This connection's commits need not wait for the disk (a crash may lose its last ones; the next
        synchronous commit of the database flushes them): synchronous_commit off / synchronous NORMAL."""
        self.execute(Q.background_durability)

    def statement_timeout(self, seconds: float) -> None:
        """Cancel a statement of this connection that runs longer (PostgreSQL; SQLite statements run in
        process and are not cancelled this way: a no-op)."""
        if self.dialect == "postgresql":
            self.execute(Q.statement_timeout, (str(int(seconds * 1000)),))

    def fetch_each(self, query: Query, rows: Sequence[Params]) -> list[Any]:
        """Run a statement that returns one row (INSERT ... RETURNING) once per parameter row; its rows in
        order. PostgreSQL pipelines them (executemany with returning): one round trip for the batch."""
        if self.dialect == "postgresql":
            found = []
            cur = self.raw.cursor()
            cur.executemany(_to_pg(query.postgresql), rows, returning=True)
            while True:
                found.append(cur.fetchone())
                if not cur.nextset():
                    break
            return found
        execute = self.raw.execute
        return [execute(query.sqlite, row).fetchone() for row in rows]

    def lock_until_commit(self, namespace: int, key: str) -> None:
        """Serialise the transactions of every process that take this (namespace, key) until this one ends
        (pg_advisory_xact_lock). SQLite: nothing to do, its single writer already runs them one at a time."""
        if self.dialect == "postgresql":
            self.execute(Q.lock_until_commit, (namespace, key))

    @property
    def notifies(self) -> bool:
        """Whether `notify` reaches other connections (PostgreSQL) or does nothing (SQLite)."""
        return self.dialect == "postgresql"


def connect_sqlite(path: Path, *, writer: bool = False) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN/COMMIT ourselves (autocommit otherwise).
    new = not path.exists() or path.stat().st_size == 0
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    if new:
        conn.execute(Q.sqlite_new_file.sqlite)  # before WAL: auto_vacuum is set on an empty file
    conn.executescript(Q.sqlite_open.sqlite)
    if writer:
        conn.execute(Q.sqlite_writer.sqlite)
    return conn


def data_version(raw: sqlite3.Connection) -> int:
    """SQLite's counter that moves when another connection commits (a cheap poll for changes)."""
    return int(raw.execute(Q.sqlite_data_version.sqlite).fetchone()[0])


def channel_scope_statement() -> str:
    """PostgreSQL's query for this schema's channel suffix: Connection.notify sends to `<channel>_<scope>`
    (a LISTEN must name the same), so installations in different schemas of one database do not hear
    each other."""
    return Q.channel_scope.postgresql


def listen_statement(channel: str, scope: str) -> str:
    """PostgreSQL's LISTEN for one of the code's channels in the scope channel_scope_statement gave (an
    identifier: no quoting needed)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", channel) or not re.fullmatch(r"[0-9a-f]{8}", scope):
        raise ValueError(f"not a channel name: {channel!r} {scope!r}")
    return Q.listen.fill(channel=f"{channel}_{scope}").postgresql


# How often a long-lived SQLite connection (a pooled reader lives as long as its thread) runs
# PRAGMA optimize; it also runs when a connection closes and after migrations.
OPTIMIZE_EVERY = 3600.0


def optimize(raw: sqlite3.Connection) -> None:
    """PRAGMA optimize: ANALYZE the tables whose statistics the queries of this connection missed, so
    the planner keeps choosing the right index as tables grow (SQLite never gathers them by itself)."""
    raw.execute(Q.sqlite_optimize_busy.sqlite)
    try:
        with contextlib.suppress(sqlite3.Error):
            raw.execute(Q.sqlite_optimize.sqlite)
    finally:
        raw.execute(Q.sqlite_busy.sqlite)


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

    @property
    def notifies(self) -> bool:
        """Whether other processes hear `Connection.notify` (LISTEN/NOTIFY, PostgreSQL): loops listen then."""
        return self.dialect == "postgresql"

    @property
    def embedded(self) -> bool:
        """A database file of hookline's own (SQLite): created and migrated on first use, where a server
        (PostgreSQL) is shared and migrated on purpose (`hookline db upgrade`)."""
        return self.dialect == "sqlite"

    @property
    def single_writer_file(self) -> Path | None:
        """The database file whose writes one process serialises (SQLite), so that loops which write run once
        per file; None where any number of processes write at once (PostgreSQL)."""
        return self.url.path if self.dialect == "sqlite" else None

    @contextmanager
    def once_per_database(self, lock_id: int) -> Iterator[bool]:
        """True when this process may run a round that one process at a time runs for the database: on
        PostgreSQL the holder of session advisory lock `lock_id` (the others sharing the database skip
        the round); on SQLite always, as there is exactly one `serve` per database file."""
        if self.dialect != "postgresql":
            yield True
            return
        conn = self.connect()
        try:
            got = bool(conn.scalar(Q.try_advisory_lock, (lock_id,)))
            try:
                yield got
            finally:
                if got:
                    conn.execute(Q.advisory_unlock, (lock_id,))
        finally:
            conn.close()


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
