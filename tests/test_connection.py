"""What differs between the engines, behind Connection and Database: the same call, the same result on both."""

from __future__ import annotations

import dataclasses
import math

import pytest

from hookline.store import events as event_log
from hookline.store import maintenance, stored_settings, tables
from hookline.store.engine import Database
from hookline.store.queries import Queries, compose, marks
from hookline.types import IncomingEvent

# A scratch table made by the test, with one array-shaped statement per engine (as a query file would hold).
_Q = Queries(
    "scratch.sql",
    {
        "insert_one": "INSERT INTO scratch (k, v) VALUES (?, ?)",
        "insert_columns": "INSERT INTO scratch (k, v) VALUES (?, ?)",
        "in_array": "SELECT k FROM scratch WHERE k IN (SELECT value FROM json_each(?)) ORDER BY k",
        "insert_returning": "INSERT INTO scratch (k, v) VALUES (?, ?) RETURNING k, v",
        "all": "SELECT k, v FROM scratch ORDER BY k",
    },
    {
        "postgresql": {
            "insert_columns": "INSERT INTO scratch (k, v) SELECT * FROM unnest(?::bigint[], ?::text[])",
            "in_array": "SELECT k FROM scratch WHERE k = ANY(?) ORDER BY k",
        }
    },
)


@pytest.fixture
def scratch(db: Database) -> Database:
    with db.connection() as conn:
        conn.execute("CREATE TABLE scratch (k BIGINT PRIMARY KEY, v TEXT)")
    return db


def test_rows_in_many_shapes_land_the_same(scratch: Database) -> None:
    with scratch.connection() as conn, conn.transaction():
        conn.executemany(_Q.insert_one, [(1, "a"), (2, "b")])
        conn.execute_columns(_Q.insert_columns, [(3, "c"), (4, "d")])
        conn.insert_many("scratch", ("k", "v"), [(5, "e")], "ON CONFLICT (k) DO NOTHING")
        returned = conn.fetch_each(_Q.insert_returning, [(6, "f"), (7, "g")])
        conn.executemany(_Q.insert_one, [])  # nothing to do is no statement
    assert [tuple(r) for r in returned] == [(6, "f"), (7, "g")]
    with scratch.connection() as conn:
        assert [tuple(r) for r in conn.fetchall(_Q.all)] == [
            (1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e"), (6, "f"), (7, "g")
        ]
        assert [r[0] for r in conn.fetchall(_Q.in_array, (conn.array([7, 2, 99]),))] == [2, 7]


def test_lock_and_notify_run_inside_a_transaction_on_both_engines(db: Database) -> None:
    with db.connection() as conn, conn.transaction():
        conn.lock_until_commit(1, "key")
        conn.notify("hookline_test", "{}")
    assert db.notifies == (db.dialect == "postgresql")
    assert (db.single_writer_file is not None) == db.embedded == (db.dialect == "sqlite")


def test_compose_joins_each_engines_text() -> None:
    queries = Queries("x.sql", {"head_fragment": "SELECT 1", "tail_clause": "LIMIT ?"},
                      {"postgresql": {"tail_clause": "LIMIT ? FOR UPDATE"}})
    joined = compose(queries.head_fragment, f"WHERE x IN ({marks(2)})", queries.tail_clause)
    assert joined.sqlite == "SELECT 1 WHERE x IN (?, ?) LIMIT ?"
    assert joined.postgresql == "SELECT 1 WHERE x IN (?, ?) LIMIT ? FOR UPDATE"


def _event(key: str, provider: str = "p", at: float = 100.0) -> IncomingEvent:
    return IncomingEvent(provider=provider, account="a", event="thing.done", resource="thing", resource_id=key,
                         occurred_at=at, received_at=at, dedup_key=key, known=True, origin="webhook",
                         headers={}, body=b"{}")


def test_the_logs_readers_on_both_engines(db: Database) -> None:
    with db.connection() as conn:
        appended = event_log.append_batch(conn, [_event("x"), _event("y", "q", 200.0), _event("x")])
        ids = [r.id for r in appended]
        assert [r.duplicate for r in appended] == [False, False, True]
        assert [e.id for e in event_log.load_events(conn, ids)] == sorted(set(ids))
        assert [e.provider for e in event_log.page_events(conn, ["q"], 0, 10)] == ["q"]
        assert event_log.count_provider_events(conn, ["p", "q"]) == 2
        assert event_log.oldest_received(conn) == 100.0
        assert event_log.event_time(conn, ids[1]) == 200.0
        assert event_log.event_heads(conn, ids) == {ids[0]: ("p", "a", "thing.done"), ids[1]: ("q", "a", "thing.done")}
        assert event_log.count_received_between(conn, 150.0) == 1
        assert event_log.count_received_between(conn, 0.0, 150.0) == 1
        assert [r[0] for r in event_log.page_received_between(conn, 0.0, None, 0, 10)] == sorted(set(ids))
        assert [e.id for e in event_log.page_by_time(conn, (100.0, ids[0]), math.inf, 10)] == [ids[1]]
        assert [e.id for e in event_log.page_by_time(conn, (0.0, 0), None, 10)] == sorted(set(ids))


def test_the_backtests_pages_take_the_received_time_of_an_event_that_does_not_say(db: Database) -> None:
    untimed = dataclasses.replace(_event("b", at=150.0), occurred_at=None)
    with db.connection() as conn:
        ids = [r.id for r in event_log.append_batch(conn, [_event("c", at=200.0), untimed, _event("a")])]
        assert [e.id for e in event_log.page_by_time(conn, (0.0, 0), None, 10)] == [ids[2], ids[1], ids[0]]
        assert [e.id for e in event_log.page_by_time(conn, (100.0, ids[2]), 150.0, 10)] == [ids[1]]
        assert [e.id for e in event_log.page_by_time(conn, (150.0, ids[1]), None, 1)] == [ids[0]]


def test_store_helpers_for_tables_named_at_run_time(db: Database) -> None:
    with db.connection() as conn:
        names = [name for name, _ in tables.table_columns(conn, "events")]
        assert names[0] == "id" and "received_at" in names
        stored_settings.put(conn, "test.key", "1")
        stored_settings.put(conn, "test.key", "2")
        assert stored_settings.get(conn, "test.key") == "2"
        assert maintenance.storage(conn).size > 0
        assert maintenance.free_pages(conn) >= 0


def test_once_per_database_is_one_holder_per_schema(db: Database) -> None:
    """PostgreSQL: a second process of the same hookline (same schema) skips the round; a hookline in
    another schema of the same database does not. SQLite: one serve per file, always True."""
    from tests.support import drop_pg_schema, new_pg_schema

    with db.once_per_database(728_115_999) as first:
        assert first
        with db.once_per_database(728_115_999) as second:
            assert second is (db.dialect == "sqlite")
        if db.dialect == "postgresql":
            schema, url = new_pg_schema()
            other = Database(url)
            try:
                with other.once_per_database(728_115_999) as elsewhere:
                    assert elsewhere
            finally:
                other.close()
                drop_pg_schema(schema)
    with db.once_per_database(728_115_999) as again:
        assert again
