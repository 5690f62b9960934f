"""Query files: the loader's rules, and every statement of every query file prepared on both engines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hookline.store.engine import Database
from hookline.store.queries import SLOT, Queries, compose, load_queries, parse

SRC = Path(__file__).resolve().parents[1] / "src" / "hookline"
# Statements EXPLAIN cannot take (schema changes, engine commands) and pieces composed into others.
_NOT_EXPLAINABLE = re.compile(
    r"^\s*(CREATE|DROP|ALTER|LOCK|PRAGMA|ANALYZE|VACUUM|LISTEN|NOTIFY|SET|BEGIN|COMMIT|SAVEPOINT|RELEASE|ROLLBACK)\b",
    re.I,
)
FRAGMENT_SUFFIXES = ("_clause", "_fragment")


def query_packages() -> list[str]:
    packages = []
    for path in sorted(SRC.rglob("queries.sql")):
        relative = path.parent.relative_to(SRC.parent)
        packages.append(".".join(relative.parts))
    return packages


def test_names_comments_and_overrides() -> None:
    base = parse(
        "-- name: first\n-- why it is shaped so\nSELECT 1;\n\n-- name: second\nSELECT ?\n  + 1\n", "base.sql"
    )
    assert base == {"first": "SELECT 1", "second": "SELECT ?\n  + 1"}
    queries = Queries("base.sql", base, {"postgresql": {"first": "SELECT 2"}})
    assert queries.first.sqlite == "SELECT 1" and queries.first.postgresql == "SELECT 2"
    assert queries.second.text("postgresql") == queries.second.text("sqlite")
    assert queries.names() == ["first", "second"]
    with pytest.raises(AttributeError, match=r"base\.sql has no query named 'third'"):
        _ = queries.third


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT 1\n-- name: a\nSELECT 2", "before the first"),
        ("-- name: a\nSELECT 1\n-- name: a\nSELECT 2", "defined twice"),
        ("-- name: a\n-- only a comment\n", "is empty"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse(text, "bad.sql")


def test_an_override_of_an_unknown_name_is_refused() -> None:
    with pytest.raises(ValueError, match="overrides unknown queries: typo"):
        Queries("x.sql", {"a": "SELECT 1"}, {"sqlite": {"typo": "SELECT 2"}})


def test_a_query_is_not_text() -> None:
    query = parse("-- name: a\nSELECT 1", "x.sql")
    with pytest.raises(TypeError, match=r"Connection\.execute"):
        str(Queries("x.sql", query, {}).a)


def test_compose_joins_a_fragment_and_its_clauses_on_each_engine() -> None:
    queries = Queries(
        "x.sql",
        {"rows_fragment": "SELECT a FROM t WHERE TRUE", "b_clause": "AND b = ?", "last_clause": "LIMIT ?"},
        {"postgresql": {"last_clause": "LIMIT ? FOR UPDATE SKIP LOCKED"}},
    )
    query = compose(queries.rows_fragment, queries.b_clause, queries.last_clause)
    assert query.name == "rows_fragment+b_clause+last_clause"
    assert query.sqlite == "SELECT a FROM t WHERE TRUE AND b = ? LIMIT ?"
    assert query.postgresql == "SELECT a FROM t WHERE TRUE AND b = ? LIMIT ? FOR UPDATE SKIP LOCKED"


def test_connection_runs_a_query_on_its_engine(db: Database) -> None:
    queries = Queries("x.sql", {"pick": "SELECT 'sqlite'"}, {"postgresql": {"pick": "SELECT 'postgresql'"}})
    with db.connection() as conn:
        assert conn.scalar(queries.pick) == db.dialect


def test_every_statement_of_every_query_file_prepares_on_this_engine(db: Database) -> None:
    """EXPLAIN each statement against the migrated schema: a typo in a column or a table fails here."""
    checked = 0
    with db.connection() as conn:
        for package in query_packages():
            queries = load_queries(package)
            for name in queries.names():
                if name.endswith(FRAGMENT_SUFFIXES):
                    continue
                sql = queries[name].text(db.dialect)
                if _NOT_EXPLAINABLE.match(sql) or SLOT.search(sql):  # slots: filled at run time
                    continue
                params = [None] * sql.count("?")
                try:
                    conn.execute("EXPLAIN " + sql, params)
                except Exception as exc:
                    raise AssertionError(f"{package}:{name} does not prepare on {db.dialect}: {exc}") from exc
                checked += 1
    assert checked == sum(
        1
        for p in query_packages()
        for n in load_queries(p).names()
        if not n.endswith(FRAGMENT_SUFFIXES)
        and not _NOT_EXPLAINABLE.match(load_queries(p)[n].text(db.dialect))
        and not SLOT.search(load_queries(p)[n].text(db.dialect))
    )


def test_fill_puts_the_codes_names_into_both_texts_and_refuses_a_slot_left_empty() -> None:
    queries = Queries(
        "x.sql",
        {"rows": "SELECT {columns} FROM {table} LIMIT 5"},
        {"postgresql": {"rows": "SELECT {columns} FROM {table}"}},
    )
    filled = queries.rows.fill(columns='"a", "b"', table='"t"')
    assert filled.sqlite == 'SELECT "a", "b" FROM "t" LIMIT 5'
    assert filled.postgresql == 'SELECT "a", "b" FROM "t"'
    with pytest.raises(KeyError, match="table"):
        queries.rows.fill(columns="a")
