"""Both engines end with the same schema: every component migrated on SQLite and on PostgreSQL, then
tables, columns (types mapped), NOT NULL, primary keys, unique constraints, foreign keys and indexes
(names, columns, uniqueness and partial-index predicates) compared.

SQLite keeps JSON in TEXT and has one INTEGER type, so TEXT matches text or jsonb and INTEGER matches
integer or bigint. Primary-key columns count as NOT NULL on both (PostgreSQL makes them so; the
code never writes a NULL key on SQLite). Partial-index predicates are compared as PostgreSQL reads
them: the SQLite index's WHERE text is parsed by PostgreSQL on the same table, in a rolled-back
transaction. Triggers are not compared: the engines write them differently (see 0006 of aircall).

Two differences are intended, listed exactly in INTENDED, and nothing else may differ:
- PostgreSQL's event log is partitioned by month (store/partition_migrations). Partitions mirror their
  parent and are not listed.
- aircall_calls.data holds a packed call (aircall/packing.py, 0011): bytea on PostgreSQL; SQLite's
  TEXT column keeps those bytes as a BLOB (its declared types only suggest), so it is not rewritten.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from hookline.assembly import migration_sources
from hookline.providers.registry import providers
from hookline.store import migrations
from hookline.store.engine import Database
from tests.support import ENGINES, drop_pg_schema, new_pg_schema

pytestmark = pytest.mark.skipif("postgresql" not in ENGINES, reason="compares SQLite with PostgreSQL")

# SQLite's declared type -> the PostgreSQL types it may stand for.
TYPES: dict[str, set[str]] = {
    "INTEGER": {"integer", "bigint"},
    "BIGINT": {"bigint"},
    "TEXT": {"text", "jsonb"},
    "BLOB": {"bytea"},
    "REAL": {"double precision", "real"},
    "DOUBLE PRECISION": {"double precision"},
    "BOOLEAN": {"boolean"},
}
_DELETE_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


@dataclass
class Index:
    columns: tuple[str, ...]
    unique: bool
    where: str | None  # the predicate as PostgreSQL prints it


@dataclass
class Table:
    columns: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name -> (type, NOT NULL)
    primary_key: tuple[str, ...] = ()
    uniques: set[tuple[str, ...]] = field(default_factory=set)
    foreign_keys: set[tuple[tuple[str, ...], str, tuple[str, ...], str]] = field(default_factory=set)
    indexes: dict[str, Index] = field(default_factory=dict)


Schema = dict[str, Table]


def sqlite_schema(path: Path, pg: psycopg.Connection) -> Schema:
    """The schema of a SQLite database; `pg` (holding the same tables) reads the partial predicates."""
    conn = sqlite3.connect(path)
    try:
        schema: Schema = {}
        names = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        for (name,) in names:
            table = schema[name] = Table()
            info = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
            table.primary_key = _sqlite_primary_key(conn, name)
            for _, col, kind, notnull, _, in_pk in info:
                table.columns[col] = (kind.upper(), bool(notnull or in_pk))
            for _, index, unique, origin, partial in conn.execute(f'PRAGMA index_list("{name}")').fetchall():
                cols = tuple(
                    (r[2] or "<expression>") + (" DESC" if r[3] else "")
                    for r in conn.execute(f'PRAGMA index_xinfo("{index}")').fetchall()
                    if r[5]  # key columns, not the rowid carried along
                )
                if origin == "u":
                    table.uniques.add(cols)
                elif origin == "c":
                    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (index,)).fetchone()[0]
                    where = _pg_predicate(pg, name, sql) if partial else None
                    table.indexes[index] = Index(cols, bool(unique), where)
            keys: dict[int, list[tuple[str, str, str | None, str]]] = {}
            for fk, _, target, col, to, _, on_delete, _ in conn.execute(f'PRAGMA foreign_key_list("{name}")'):
                keys.setdefault(fk, []).append((target, col, to, on_delete))
            for parts in keys.values():
                target, on_delete = parts[0][0], parts[0][3]
                cols = tuple(p[1] for p in parts)
                to_cols = tuple(p[2] for p in parts if p[2]) or _sqlite_primary_key(conn, target)
                table.foreign_keys.add((cols, target, to_cols, on_delete))
        return schema
    finally:
        conn.close()


def _sqlite_primary_key(conn: sqlite3.Connection, table: str) -> tuple[str, ...]:
    info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    return tuple(col for _, col in sorted((row[5], row[1]) for row in info if row[5]))


def _pg_predicate(pg: psycopg.Connection, table: str, create_index: str) -> str:
    """The WHERE of a SQLite CREATE INDEX, as PostgreSQL prints it for an index on the same table."""
    where = re.split(r"\bWHERE\b", create_index, maxsplit=1, flags=re.I)[1].strip().rstrip(";")
    with pg.transaction(force_rollback=True):
        pg.execute(f'CREATE INDEX schema_test_probe ON "{table}" ((1)) WHERE {where}')
        row = pg.execute(
            "SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = 'schema_test_probe'::regclass"
        ).fetchone()
    assert row is not None
    return str(row[0])


def pg_schema(pg: psycopg.Connection) -> Schema:
    schema: Schema = {}
    for (name,) in pg.execute(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        " AND NOT (SELECT relispartition FROM pg_class WHERE oid = table_name::regclass) ORDER BY table_name"
    ).fetchall():
        table = schema[name] = Table()
        for col, kind, notnull in pg.execute(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (name,),
        ).fetchall():
            table.columns[col] = (kind, notnull)
        for kind, cols, target, target_cols, on_delete in pg.execute(
            "SELECT contype, ARRAY(SELECT attname FROM unnest(conkey) WITH ORDINALITY k(n, i)"
            "   JOIN pg_attribute ON attrelid = conrelid AND attnum = k.n ORDER BY i),"
            " confrelid::regclass::text, ARRAY(SELECT attname FROM unnest(confkey) WITH ORDINALITY k(n, i)"
            "   JOIN pg_attribute ON attrelid = confrelid AND attnum = k.n ORDER BY i), confdeltype"
            " FROM pg_constraint WHERE conrelid = %s::regclass",
            (name,),
        ).fetchall():
            if kind == "p":
                table.primary_key = tuple(cols)
            elif kind == "u":
                table.uniques.add(tuple(cols))
            elif kind == "f":
                table.foreign_keys.add((tuple(cols), target.strip('"'), tuple(target_cols), _DELETE_ACTIONS[on_delete]))
        for index, unique, natts, options, where in pg.execute(
            "SELECT c.relname, i.indisunique, i.indnkeyatts, i.indoption::int2[], pg_get_expr(i.indpred, i.indrelid)"
            " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = %s::regclass"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid)",
            (name,),
        ).fetchall():
            cols = tuple(
                pg.execute("SELECT pg_get_indexdef(%s::regclass, %s, true)", (index, k + 1)).fetchone()[0].strip('"')
                + (" DESC" if options[k] & 1 else "")
                for k in range(natts)
            )
            table.indexes[index] = Index(cols, unique, where)
    return schema


def differences(lite: Schema, pg: Schema) -> list[str]:
    """What differs, one line each, naming the table and what SQLite and PostgreSQL have."""
    found = [f"table {t}: only on SQLite" for t in sorted(lite.keys() - pg.keys())]
    found += [f"table {t}: only on PostgreSQL" for t in sorted(pg.keys() - lite.keys())]
    for name in sorted(lite.keys() & pg.keys()):
        found += [f"table {name}: {d}" for d in _table_differences(lite[name], pg[name])]
    return found


def _table_differences(lite: Table, pg: Table) -> Iterator[str]:
    for col in sorted(lite.columns.keys() | pg.columns.keys()):
        a, b = lite.columns.get(col), pg.columns.get(col)
        if a is None or b is None:
            yield f"column {col}: only on {'PostgreSQL' if a is None else 'SQLite'}"
        elif b[0] not in TYPES.get(a[0], set()) or a[1] != b[1]:
            yield f"column {col}: SQLite {_col(a)}, PostgreSQL {_col(b)}"
    if lite.primary_key != pg.primary_key:
        yield f"primary key: SQLite {lite.primary_key}, PostgreSQL {pg.primary_key}"
    for label, a_set, b_set in (
        ("unique constraint", lite.uniques, pg.uniques),
        ("foreign key", lite.foreign_keys, pg.foreign_keys),
    ):
        yield from (f"{label} {x}: only on SQLite" for x in sorted(a_set - b_set, key=str))
        yield from (f"{label} {x}: only on PostgreSQL" for x in sorted(b_set - a_set, key=str))
    for index in sorted(lite.indexes.keys() | pg.indexes.keys()):
        a_ix, b_ix = lite.indexes.get(index), pg.indexes.get(index)
        if a_ix != b_ix:
            yield f"index {index}: SQLite {a_ix}, PostgreSQL {b_ix}"


def _col(c: tuple[str, bool]) -> str:
    return f"{c[0]} {'NOT NULL' if c[1] else 'NULL'}"


@pytest.fixture
def both(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """An empty SQLite file and an empty PostgreSQL schema (its URL)."""
    schema, url = new_pg_schema()
    try:
        yield tmp_path / "schema.sqlite3", url
    finally:
        drop_pg_schema(schema)


def migrated(sources: list[migrations.MigrationSource], lite_path: Path, pg_url: str) -> list[str]:
    for url in (f"sqlite:///{lite_path}", pg_url):
        db = Database(url)
        try:
            migrations.upgrade(db, sources)
        finally:
            db.close()
    with psycopg.connect(pg_url, autocommit=True) as pg:
        return differences(sqlite_schema(lite_path, pg), pg_schema(pg))


# PostgreSQL's monthly partitions of the events table: the id and the dedup key are unique in event_keys
# (a partitioned table's unique keys must hold the partition key), which the log's foreign keys name.
INTENDED = [
    "table event_keys: only on PostgreSQL",
    "table aircall_calls: column data: SQLite TEXT NOT NULL, PostgreSQL bytea NOT NULL",
    "table automation_runs: foreign key (('event_id',), 'events', ('id',), 'CASCADE'): only on SQLite",
    "table automation_runs: foreign key (('event_id',), 'event_keys', ('id',), 'CASCADE'): only on PostgreSQL",
    "table deliveries: foreign key (('event_id',), 'events', ('id',), 'CASCADE'): only on SQLite",
    "table deliveries: foreign key (('event_id',), 'event_keys', ('id',), 'CASCADE'): only on PostgreSQL",
    "table events: primary key: SQLite ('id',), PostgreSQL ('id', 'received_at')",
    "table events: index events_dedup: SQLite Index(columns=('provider', 'account', 'dedup_key'), unique=True,"
    " where=None), PostgreSQL None",
]


def test_every_component_migrates_to_the_same_schema_on_both_engines(both: tuple[Path, str]) -> None:
    found = migrated(migration_sources(providers()), *both)
    assert found == INTENDED, "the engines' schemas differ:\n" + "\n".join(found)


def test_a_difference_is_reported(both: tuple[Path, str], tmp_path: Path) -> None:
    """The comparison sees what differs: a type, a NOT NULL, an index's columns and predicate."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_t.sql").write_text("CREATE TABLE t (id {{identity}}, a TEXT NOT NULL, b INTEGER, c TEXT);\n")
    (folder / "0002_ix.sqlite.sql").write_text(
        "CREATE INDEX t_a ON t (a) WHERE b > 1;\nCREATE INDEX t_b ON t (b);\nCREATE TABLE only_here (x TEXT);\n"
    )
    (folder / "0002_ix.postgresql.sql").write_text(
        "CREATE INDEX t_a ON t (a) WHERE b > 2;\nCREATE INDEX t_b ON t (b, c);\n"
        "ALTER TABLE t ALTER c TYPE bytea USING NULL;\nALTER TABLE t ALTER a DROP NOT NULL;\n"
    )
    found = migrated([migrations.MigrationSource("probe", folder)], *both)
    assert found == [
        "table only_here: only on SQLite",
        "table t: column a: SQLite TEXT NOT NULL, PostgreSQL text NULL",
        "table t: column c: SQLite TEXT NULL, PostgreSQL bytea NULL",
        "table t: index t_a: SQLite Index(columns=('a',), unique=False, where='(b > 1)'),"
        " PostgreSQL Index(columns=('a',), unique=False, where='(b > 2)')",
        "table t: index t_b: SQLite Index(columns=('b',), unique=False, where=None),"
        " PostgreSQL Index(columns=('b', 'c'), unique=False, where=None)",
    ]
