"""A small migration runner: versioned SQL files per component and dialect.

Each component (the core, the pipeline, each provider) owns a folder with `sqlite/` and
`postgresql/` sub-folders of files named `NNNN_description.sql`. Applied versions are recorded per
component in `schema_migrations`, so components never have to agree on numbering.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from hookline.store.engine import Connection, Database

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any constant works; it only has to be the same for every hookline process.
_PG_LOCK_ID = 728_115_001


@dataclass(frozen=True)
class MigrationSource:
    component: str
    directory: Path


@dataclass(frozen=True)
class Migration:
    component: str
    version: int
    name: str
    sql: str


def core_source() -> MigrationSource:
    return MigrationSource("core", Path(__file__).parent / "migrations")


def load(source: MigrationSource, dialect: str) -> list[Migration]:
    folder = source.directory / dialect
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE.match(path.name)
        if match is None:
            raise ValueError(f"migration file name must be NNNN_name.sql: {path}")
        found.append(Migration(source.component, int(match[1]), match[2], path.read_text()))
    return found


def _ensure_table(conn: Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
        " applied_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (component, version))"
    )


def applied(conn: Connection) -> set[tuple[str, int]]:
    _ensure_table(conn)
    return {(c, v) for c, v in conn.fetchall("SELECT component, version FROM schema_migrations")}


def pending(db: Database, sources: list[MigrationSource]) -> list[Migration]:
    with db.connection() as conn:
        done = applied(conn)
    return [m for s in sources for m in load(s, db.dialect) if (m.component, m.version) not in done]


def upgrade(db: Database, sources: list[MigrationSource]) -> list[Migration]:
    """Apply every pending migration, each in its own transaction; returns what was applied."""
    conn = db.connect()
    try:
        if db.dialect == "postgresql":
            conn.execute("SELECT pg_advisory_lock(?)", (_PG_LOCK_ID,))
        done = applied(conn)
        ran = []
        for source in sources:
            for m in load(source, db.dialect):
                if (m.component, m.version) in done:
                    continue
                with conn.transaction():
                    if db.dialect == "postgresql":
                        # The whole file, untouched: the server's own parser knows quotes, comments and
                        # dollar-quoted bodies (and no '?' -> '%s' rewriting of a literal or a jsonb operator).
                        conn.raw.execute(m.sql)
                    else:
                        # executescript would COMMIT our transaction; run statement by statement.
                        for statement in _split(m.sql):
                            conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?,?,?,?)",
                        (m.component, m.version, m.name, time.time()),
                    )
                ran.append(m)
        return ran
    finally:
        if db.dialect == "postgresql":
            conn.execute("SELECT pg_advisory_unlock(?)", (_PG_LOCK_ID,))
        conn.close()


def _split(script: str) -> list[str]:
    """The statements of an SQLite script, cut only where SQLite itself says a statement ends.

    sqlite3.complete_statement knows string literals, quoted names, comments and the BEGIN ... END
    body of a trigger, so a ';' inside any of them does not cut. Pieces holding only comments go.
    """
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    rest = pending[:-1].strip()  # the split added a ';' after the last piece
    if rest and not _only_comments(rest):
        raise ValueError(f"unfinished SQL statement at the end of the migration: {rest[:80]!r}")
    return [s for s in statements if not _only_comments(s[:-1])]


def _only_comments(text: str) -> bool:
    """Nothing but whitespace and comments (e.g. a file's closing remark): nothing to execute."""
    return not _COMMENTS.sub("", text).strip()


_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
