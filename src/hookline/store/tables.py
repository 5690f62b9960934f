"""Reads and deletes over a table named at run time: its columns, keyset pages by time, old rows.

Retention's policies and exports work on the event log and on the tables providers offer
(Provider.retention_policies, Provider.exports), so their statements are composed here from names the
code (never a request) gives. Only store/ composes such SQL; the rest of hookline calls these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hookline.store.engine import Connection
from hookline.store.queries import Query, compose, load_queries, marks

Q = load_queries(__package__)


def quote(name: str) -> str:
    """An identifier quoted for both engines."""
    return '"' + name.replace('"', '""') + '"'


def table_columns(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(name, declared type) of each column of `table`, in order."""
    return [(str(r[0]), str(r[1])) for r in conn.fetchall(Q.table_columns, (table,))]


EXACT_BELOW = 10_000  # PostgreSQL: a table its statistics call smaller than this is counted


def table_size(conn: Connection, table: str) -> tuple[int, int]:
    """(rows, bytes) of a table, estimated without reading it whole: PostgreSQL's statistics and relation
    sizes; on SQLite the span of its rowids and the average size of its newest rows (no indexes counted)."""
    rows, unknown, size = conn.fetchone(Q.relation_size, (table,))
    if unknown or int(rows) < EXACT_BELOW:  # statistics missing, or lagging behind a small table: count it
        high = conn.scalar(Q.table_rows_high.fill(table=quote(table)))
        low = conn.scalar(Q.table_rows_low.fill(table=quote(table)))
        rows = int(high or 0) - int(low or 0)
    if size is None:
        lengths = " + ".join(f"COALESCE(length({quote(c)}), 0)" for c, _ in table_columns(conn, table)) or "0"
        size = int(float(conn.scalar(Q.table_sample.fill(lengths=lengths, table=quote(table))) or 0) * int(rows))
    return int(rows), int(size)


def keyset_page(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    order: Sequence[str],
    since: float,
    until: float,
    after: Sequence[Any] | None,
    limit: int,
) -> list[Any]:
    """Rows of `columns` whose `order[0]` (a time) is in [since, until), in `order`, after the key `after`."""
    names = {"columns": ", ".join(map(quote, columns)), "table": quote(table), "time": quote(order[0]),
             "order": ", ".join(map(quote, order)), "marks": marks(len(order))}
    parts = [Q.keyset_page_fragment]
    params: list[Any] = [since, until]
    if after is not None:
        parts.append(Q.keyset_after_clause)
        params += after
    return conn.fetchall(compose(*parts, Q.keyset_order_clause).fill(**names), [*params, limit])


def count_aged(
    conn: Connection, table: str, time_column: str, done: Query | str, before: float, limit: int | None = None
) -> tuple[int, Any, int]:
    """(rows older than `before` that are done, the oldest time among them, all rows older than `before`).
    `done` is a condition on the row (alias t). With `limit`, each count stops there (a page's cheap view)."""
    names = {"table": quote(table), "time": f"t.{quote(time_column)}"}
    if limit is None:
        row = conn.fetchone(compose(Q.count_aged_done_fragment.fill(**names), done), (before,))
        old = int(conn.scalar(Q.count_aged.fill(**names), (before,)))
        return int(row[0]), row[1], old
    first = compose(
        Q.count_aged_done_first_fragment.fill(**names), done, Q.count_aged_first_order_clause.fill(**names)
    )
    row = conn.fetchone(first, (before, limit))
    old = int(conn.scalar(Q.count_aged_first.fill(**names), (before, limit)))
    return int(row[0]), row[1], old


def first_time(conn: Connection, table: str, time_column: str, key: str) -> Any:
    """The time of a table's first row by its key (a single column growing with time: one index seek)."""
    return conn.scalar(Q.first_time.fill(time=quote(time_column), table=quote(table), key=quote(key)))


def delete_aged(
    conn: Connection, table: str, time_column: str, done: Query | str, keys: Sequence[str], before: float, limit: int
) -> list[Any]:
    """Delete at most `limit` rows older than `before` that are done, oldest first (call inside a transaction);
    returns the deleted rows' keys and time. The condition is checked again by the DELETE: a row that became
    needed since it was picked stays."""
    cols = ", ".join(f"t.{k}" for k in keys)
    names = {"keys": cols, "table": quote(table), "time": f"t.{quote(time_column)}"}
    picked = compose(Q.pick_aged_fragment.fill(**names), done, Q.pick_aged_order_clause.fill(**names))
    ids = conn.fetchall(picked, (before, limit))
    if not ids:
        return []
    if len(keys) == 1:
        params: list[Any] = [i[0] for i in ids]
        match = f"t.{keys[0]} IN ({marks(len(ids))})"
    else:
        one = f"({marks(len(keys))})"
        match = f"({cols}) IN (VALUES {', '.join([one] * len(ids))})"
        params = [v for i in ids for v in i]
    returning = ", ".join([*keys, quote(time_column)])
    delete = compose(
        Q.delete_picked_fragment.fill(table=quote(table), match=match),
        done,
        Q.delete_picked_returning_clause.fill(returning=returning),
    )
    return conn.fetchall(delete, params)


def column_values(conn: Connection, table: str, key: str, column: str) -> list[Any]:
    """(key, value) of every row whose `column` is not NULL (the names come from code: sealed.py)."""
    return conn.fetchall(Q.column_values.fill(key=key, column=column, table=table))


def replace_value(conn: Connection, table: str, key: str, column: str, key_value: Any, old: Any, new: Any) -> int:
    """Write `new` into one row's `column` only while it still holds `old`; returns the rows changed (0 or 1)."""
    cur = conn.execute(Q.replace_value.fill(table=table, column=column, key=key), (new, key_value, old))
    return int(cur.rowcount)


# Rows of a table keyed by one column, for a store generic over its table (providers/kit/accounts.py:
# SealedAccountStore); the table and column names come from a class, never from a request.


def keyed_rows(conn: Connection, table: str, columns: Sequence[str], key: str, value: Any = None) -> list[Any]:
    """`columns` of the row whose `key` is `value` or, with no value, of every row in `key` order."""
    names = {"columns": ", ".join(map(quote, columns)), "table": quote(table), "key": quote(key)}
    if value is None:
        return conn.fetchall(compose(Q.keyed_rows_fragment, Q.keyed_order_clause).fill(**names))
    return conn.fetchall(compose(Q.keyed_rows_fragment, Q.keyed_match_clause).fill(**names), (value,))


def upsert_keyed(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    values: Sequence[Any],
    updated: Sequence[str],
    kept: Sequence[str] = (),
) -> bool:
    """Insert a row (`values` in `columns` order, the key first) or, for an existing key, set the `updated`
    columns and the `kept` ones whose new value is not NULL (a NULL keeps the stored one); True when new."""
    key = quote(columns[0])
    existed = conn.scalar(Q.keyed_exists.fill(table=quote(table), key=key), (values[0],))
    sets = [f"{quote(c)} = excluded.{quote(c)}" for c in updated]
    sets += [f"{quote(c)} = COALESCE(excluded.{quote(c)}, {quote(table)}.{quote(c)})" for c in kept]
    upsert = Q.upsert_keyed.fill(
        table=quote(table), columns=", ".join(map(quote, columns)), marks=marks(len(columns)), key=key,
        sets=", ".join(sets),
    )
    conn.execute(upsert, tuple(values))
    return existed is None


def update_keyed(conn: Connection, table: str, key: str, value: Any, column: str, new: Any) -> int:
    """Set one row's `column` to `new`; returns the rows changed (0: no row has that key)."""
    update = Q.update_keyed.fill(table=quote(table), column=quote(column), key=quote(key))
    return int(conn.execute(update, (new, value)).rowcount)


def delete_keyed(conn: Connection, table: str, key: str, value: Any) -> int:
    """Delete the row whose `key` is `value`; returns the rows deleted."""
    return int(conn.execute(Q.delete_keyed.fill(table=quote(table), key=quote(key)), (value,)).rowcount)
