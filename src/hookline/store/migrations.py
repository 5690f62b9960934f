"""A small migration runner: versioned SQL files per component and dialect.

Each component (the core, the pipeline, each provider) owns a folder with `sqlite/` and
`postgresql/` sub-folders of files named `NNNN_description.sql`. Applied versions are recorded per
component in `schema_migrations`, so components never have to agree on numbering.
"""

from __future__ import annotations

import re
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
                        conn.execute(m.sql)
                    else:
                        # executescript would COMMIT our transaction; run statement by statement.
                        for statement in _split(m.sql):
                            conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?,?,?,?)",
                        (m.component, m.version, m.name, time.time()),
                    )
                ran.append(m)
        if ran and db.dialect == "sqlite":
            conn.execute("ANALYZE")  # fresh statistics for new indexes (bounded by analysis_limit)
        return ran
    finally:
        if db.dialect == "postgresql":
            conn.execute("SELECT pg_advisory_unlock(?)", (_PG_LOCK_ID,))
        conn.close()


def _split(script: str) -> list[str]:
    """Statements of a migration script: split at ';', except inside a CREATE TRIGGER ... END (our
    SQLite migrations hold no ';' inside literals)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    out: list[str] = []
    held = ""
    for part in "\n".join(lines).split(";"):
        held = f"{held};{part}" if held else part
        statement = held.strip()
        if statement.upper().startswith("CREATE TRIGGER") and not statement.upper().endswith("END"):
            continue  # inside the trigger's body
        if statement:
            out.append(statement)
        held = ""
    return out
