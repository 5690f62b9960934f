-- name: committer_alive
-- After a failed batch: does the writer's connection still answer? (the event at fault, or the database)
SELECT 1

-- name: committer_savepoint
-- A write handed to Committer.submit runs under its own savepoint: one that fails is undone alone.
SAVEPOINT hookline_work

-- name: committer_rollback_savepoint
ROLLBACK TO SAVEPOINT hookline_work

-- name: committer_release_savepoint
RELEASE SAVEPOINT hookline_work
-- The event log's SQL (store/events.py): the only module that reads or writes the events table.

-- name: append_event
-- One statement for both engines: a repeat of a known dedup key only bumps its counter, and the
-- returned duplicate_count tells a new event (0) from a repeat.
INSERT INTO events (provider, account, event, resource, resource_id, occurred_at, received_at,
  dedup_key, duplicate_count, last_seen_at, known, origin, headers, body)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)
ON CONFLICT (provider, account, dedup_key) DO UPDATE
SET duplicate_count = events.duplicate_count + 1, last_seen_at = excluded.last_seen_at
RETURNING id, duplicate_count;

-- name: add_to_counts
-- Several processes may share a slot: only contention, never a wrong sum.
INSERT INTO event_counts (slot, received, duplicates) VALUES (?, ?, ?) ON CONFLICT (slot) DO UPDATE
SET received = event_counts.received + excluded.received,
  duplicates = event_counts.duplicates + excluded.duplicates;

-- name: event_counts
SELECT COALESCE(sum(received), 0), COALESCE(sum(duplicates), 0) FROM event_counts;

-- name: list_events_fragment
-- Metadata only; followed by WHERE and the filter clauses below, then list_events_order_clause.
SELECT id, provider, account, event, resource, resource_id, occurred_at, received_at,
  dedup_key, duplicate_count, last_seen_at, known, origin, headers
FROM events

-- name: event_provider_clause
provider = ?

-- name: event_event_clause
event = ?

-- name: event_account_clause
account = ?

-- name: event_since_clause
received_at >= ?

-- name: event_before_clause
id < ?

-- name: list_events_order_clause
ORDER BY id DESC LIMIT ?

-- name: get_event
SELECT id, provider, account, event, resource, resource_id, occurred_at, received_at,
  dedup_key, duplicate_count, last_seen_at, known, origin, headers, body
FROM events WHERE id = ?;

-- name: count_events
SELECT count(*) FROM events;

-- name: last_received
-- The newest event of one origin of an account (the watchdogs: when did a webhook last arrive).
SELECT received_at FROM events WHERE provider = ? AND account = ? AND origin = ? ORDER BY id DESC LIMIT 1;

-- name: last_received_of
-- last_received for many accounts in one statement (the Installations page: 2,000 rows, one query):
-- the (provider, account) pairs come as one JSON array of pairs (the same text on both engines), each
-- pair's newest event of the origin found through events_account from its newest id down.
SELECT t.provider, t.account, (SELECT e.received_at FROM events e
  WHERE e.provider = t.provider AND e.account = t.account AND e.origin = ? ORDER BY e.id DESC LIMIT 1)
FROM (SELECT json_extract(value, '$[0]') AS provider, json_extract(value, '$[1]') AS account
      FROM json_each(?)) AS t;

-- name: stored_events
-- The events whose ids are in the array parameter (Connection.array), in id order: the worker's batch.
SELECT id, provider, account, event, origin, occurred_at, received_at, body
FROM events WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id;

-- name: page_stored_events
-- Replays: events of the providers in the array parameter after an id, oldest first.
SELECT id, provider, account, event, origin, occurred_at, received_at, body
FROM events WHERE provider IN (SELECT value FROM json_each(?)) AND id > ? ORDER BY id LIMIT ?;

-- name: count_provider_events
-- Events of the providers in the array parameter (Connection.array).
SELECT count(*) FROM events WHERE provider IN (SELECT value FROM json_each(?));

-- name: oldest_received
SELECT min(received_at) FROM events;

-- name: event_time
-- When an event happened, or arrived when it does not say.
SELECT coalesce(occurred_at, received_at) FROM events WHERE id = ?;

-- name: event_heads
-- Who sent an event and what it is, for the events in the array parameter (deliveries' listings).
SELECT id, provider, account, event FROM events WHERE id IN (SELECT value FROM json_each(?));

-- name: of_account_clause
-- After a column holding event ids (jobs.event_id, deliveries.event_id): the events of one account of
-- the providers in the array parameter. Through events_account (provider, account, id): the work grows
-- with that account's events, not with the log (an account filter without the provider would walk it all).
IN (SELECT id FROM events WHERE provider IN (SELECT value FROM json_each(?)) AND account = ?)

-- name: account_event_counts
-- /api/stats?account=: event_counts has no account dimension (a slot per writer, summed), so one
-- account's counts are counted through events_account: exact, and as cheap as that account is small.
SELECT count(*), COALESCE(sum(duplicate_count), 0) FROM events
WHERE provider IN (SELECT value FROM json_each(?)) AND account = ?;

-- name: count_received_between
-- received_at in [since, until); an open end is passed as infinity.
SELECT count(*) FROM events WHERE received_at >= ? AND received_at < ?;

-- name: page_received_between
-- Replays: what matching and ordering need, oldest first, after an id.
SELECT id, provider, account, event, resource, resource_id, occurred_at, received_at
FROM events WHERE received_at >= ? AND received_at < ? AND id > ? ORDER BY id LIMIT ?;

-- name: table_columns
-- (name, declared type) of a table's columns in order (store/tables.py).
SELECT name, type FROM pragma_table_info(?) ORDER BY cid;

-- name: background_durability
-- A writer whose work can be redone (the worker's projections, retention's deletes; Connection.defer_sync):
-- its commits are atomic but skip the fsync (WAL: the next FULL commit of the committer makes them
-- durable), so it holds the write lock far shorter.
PRAGMA synchronous=NORMAL

-- name: storage_size
-- (bytes of the database, bytes of its free pages, bytes of the events table): what each engine knows.
SELECT p.page_count * s.page_size, f.freelist_count * s.page_size, NULL
FROM pragma_page_count() AS p, pragma_page_size() AS s, pragma_freelist_count() AS f;

-- name: relation_size
-- (rows, whether that count is unknown, bytes) of a table from the engine's own accounting, no scan of the
-- table. SQLite keeps no such numbers: NULLs, and store/tables.py estimates (table_rows_estimate_fragment,
-- table_sample_fragment).
SELECT NULL, 1, NULL WHERE ? IS NOT NULL

-- name: table_rows_high
-- With table_rows_low, a table's rows where the engine keeps no count (high - low). SQLite: the span of
-- its rowids (one seek at each end of the b-tree; retention deletes the oldest rows, so the span has few
-- gaps); PostgreSQL (statistics missing or small): count(*) - 0.
SELECT COALESCE(max(rowid), 0) FROM {table}

-- name: table_rows_low
SELECT COALESCE(min(rowid) - 1, 0) FROM {table}

-- name: table_sample
-- The newest rows' average size (`lengths`: the sum of each column's length), which estimates the bytes
-- of the whole table.
SELECT avg({lengths}) FROM (SELECT * FROM {table} ORDER BY rowid DESC LIMIT 200) s

-- name: import_events_fragment
-- `hookline import events`: followed by "(columns) VALUES (marks)" of the table's own columns, then
-- import_events_tail_clause: an event already there (same id or dedup key) is kept as it is.
INSERT INTO events

-- name: import_events_tail_clause
ON CONFLICT DO NOTHING

-- name: count_event_ids_between
SELECT count(*) FROM events WHERE id >= ? AND id <= ?;

-- name: follow_imported_ids
-- After events were inserted with their own ids, new ones must get ids above them. SQLite's AUTOINCREMENT
-- follows explicit ids by itself: nothing to do but read. PostgreSQL: queries.postgresql.sql.
SELECT max(id) FROM events;

-- name: page_by_time
-- `rules test`: events in (time, id) order after a position, the time being what rules see as the
-- event's timestamp: when it happened, or when it was received if the provider did not say.
SELECT id, provider, account, event, origin, occurred_at, received_at, body
FROM events WHERE COALESCE(occurred_at, received_at) > ?
  OR (COALESCE(occurred_at, received_at) = ? AND id > ?)
ORDER BY COALESCE(occurred_at, received_at), id LIMIT ?;

-- name: page_by_time_until
SELECT id, provider, account, event, origin, occurred_at, received_at, body
FROM events WHERE (COALESCE(occurred_at, received_at) > ? OR (COALESCE(occurred_at, received_at) = ? AND id > ?))
  AND COALESCE(occurred_at, received_at) <= ?
ORDER BY COALESCE(occurred_at, received_at), id LIMIT ?;

-- name: get_setting
SELECT value FROM settings WHERE key = ?;

-- name: put_setting
INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value;


-- PostgreSQL's monthly partitions of the events table (store/partitions.py). SQLite's log is one table:
-- partitions.py never runs these there; the SQLite texts read nothing.

-- name: event_partitions
-- The monthly partitions (events_pYYYYMM), oldest first.
SELECT name FROM sqlite_master WHERE FALSE;

-- name: create_event_partition
-- The partition of the month holding this unix time, unless it exists (or the default partition holds
-- events of that month): whether one was created.
SELECT FALSE WHERE ? IS NOT NULL;

-- name: partition_lock_timeout
-- Dropping a partition locks the whole events table: never wait long for it (ingest would queue behind).
SELECT ?;

-- name: lock_events
SELECT 1;

-- name: count_keys_between
SELECT count(*) FROM events WHERE received_at >= ? AND received_at < ?;

-- name: month_keys_fragment
-- Followed by retention's "done" condition (alias t), then month_keys_order_clause.
SELECT t.id FROM events t WHERE t.received_at >= ? AND t.received_at < ? AND

-- name: month_keys_order_clause
ORDER BY t.received_at LIMIT ?

-- name: delete_keys_fragment
-- Followed by the "done" condition again (a key that became needed since it was picked stays), then
-- delete_keys_returning_clause.
DELETE FROM events AS t WHERE t.id IN (SELECT value FROM json_each(?)) AND

-- name: delete_keys_returning_clause
RETURNING id, received_at

-- name: import_event_keys_fragment
-- PostgreSQL's key table takes an imported event's key before the event (queries.postgresql.sql).
INSERT INTO events (id, provider, account, dedup_key, received_at)

-- name: import_event_keys_tail_clause
ON CONFLICT DO NOTHING RETURNING id

-- name: month_held_fragment
-- Followed by "NOT (" retention's "done" condition "))": is any event of the month still needed?
SELECT EXISTS (SELECT 1 FROM events t WHERE t.received_at >= ? AND t.received_at < ? AND

-- Statements over a table named at run time (store/tables.py): retention's policies, exports and the
-- providers' account stores name the table and its columns in code; `{time}` is a quoted column, with
-- the alias `t.` where the statement has one.

-- name: keyset_page_fragment
SELECT {columns} FROM {table} WHERE {time} >= ? AND {time} < ?

-- name: keyset_after_clause
-- The rows after the last one of the previous page (a row value compared whole: the order's key).
AND ({order}) > ({marks})

-- name: keyset_order_clause
ORDER BY {order} LIMIT ?

-- name: count_aged_done_fragment
-- Followed by the "done" condition (alias t).
SELECT count(*), min({time}) FROM {table} t WHERE {time} < ? AND

-- name: count_aged
SELECT count(*) FROM {table} t WHERE {time} < ?

-- name: count_aged_done_first_fragment
-- With a limit (a page's cheap view): followed by "done", then count_aged_first_order_clause.
SELECT count(*), min(s.at) FROM (SELECT {time} AS at FROM {table} t WHERE {time} < ? AND

-- name: count_aged_first_order_clause
ORDER BY {time} LIMIT ?) s

-- name: count_aged_first
SELECT count(*) FROM (SELECT 1 AS one FROM {table} t WHERE {time} < ? LIMIT ?) s

-- name: first_time
-- The time of a table's first row by its key (a single column growing with time: one index seek).
SELECT {time} FROM {table} ORDER BY {key} LIMIT 1

-- name: pick_aged_fragment
-- Followed by the "done" condition, then pick_aged_order_clause.
SELECT {keys} FROM {table} t WHERE {time} < ? AND

-- name: pick_aged_order_clause
ORDER BY {time} LIMIT ?

-- name: delete_picked_fragment
-- `match`: the picked keys; followed by "done" again (a row that became needed since stays), then
-- delete_picked_returning_clause.
DELETE FROM {table} AS t WHERE {match} AND

-- name: delete_picked_returning_clause
-- SQLite's RETURNING takes no alias.
RETURNING {returning}

-- name: column_values
SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL

-- name: replace_value
-- Only while the row still holds the old value (a concurrent rotation wins, this one changes nothing).
UPDATE {table} SET {column} = ? WHERE {key} = ? AND {column} = ?

-- name: keyed_rows_fragment
SELECT {columns} FROM {table}

-- name: keyed_order_clause
ORDER BY {key}

-- name: keyed_match_clause
WHERE {key} = ?

-- name: keyed_exists
SELECT 1 FROM {table} WHERE {key} = ?

-- name: upsert_keyed
INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({key}) DO UPDATE SET {sets}

-- name: update_keyed
UPDATE {table} SET {column} = ? WHERE {key} = ?

-- name: delete_keyed
DELETE FROM {table} WHERE {key} = ?

-- The engine's own statements (store/engine.py, migrations.py, maintenance.py). Where only one engine runs
-- a statement, the other's text is a harmless SELECT of the same parameters that nothing runs.

-- name: sqlite_new_file
-- Only a new, empty file takes it (the retention loop then shrinks the file); an existing database
-- switches with `hookline db vacuum`. Not set on others: it would take a lock.
PRAGMA auto_vacuum=INCREMENTAL

-- name: sqlite_open
-- Every SQLite connection (run as a script). analysis_limit: PRAGMA optimize's ANALYZE reads at most
-- ~400 rows per index, so statistics take milliseconds.
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
PRAGMA foreign_keys=ON;
PRAGMA busy_timeout=30000;
PRAGMA analysis_limit=400

-- name: sqlite_writer
-- The committer's connection: fewer, larger checkpoints.
PRAGMA wal_autocheckpoint=4000

-- name: sqlite_optimize_busy
-- PRAGMA optimize may write (sqlite_stat1): never wait long for a busy writer, it runs again next time.
PRAGMA busy_timeout=100

-- name: sqlite_optimize
PRAGMA optimize

-- name: sqlite_busy
PRAGMA busy_timeout=30000

-- name: sqlite_data_version
-- Moves when another connection commits: a cheap poll for "something changed".
PRAGMA data_version

-- name: begin_write
-- SQLite takes the write lock at BEGIN, so a transaction never has to upgrade its lock.
BEGIN IMMEDIATE

-- name: insert_many
-- `names` quoted columns, `values` their placeholders, `tail` an ON CONFLICT clause or nothing.
INSERT INTO {table} ({names}) VALUES ({values}) {tail}

-- name: column_types
-- PostgreSQL's types for insert_many's arrays (SQLite needs none: Connection.column_types answers {}).
SELECT name, type FROM pragma_table_info(?)

-- name: notify
-- PostgreSQL's NOTIFY at commit; SQLite has no listeners across processes: nothing runs this there.
SELECT ?, ?

-- name: statement_timeout
-- PostgreSQL only: SQLite's statements run in process and are not cancelled this way.
SELECT ?

-- name: lock_until_commit
-- PostgreSQL's transaction-scoped advisory lock; SQLite's single writer already serialises.
SELECT ?, ?

-- name: try_advisory_lock
SELECT ?

-- name: advisory_lock
SELECT ?

-- name: advisory_unlock
SELECT ?

-- name: channel_scope
-- PostgreSQL only (a LISTEN/NOTIFY channel's suffix for this schema); SQLite has no channels.
SELECT ''

-- name: listen
-- PostgreSQL: `channel` a fixed identifier of the code with its schema's scope (store.engine.listen_statement
-- checks it).
LISTEN {channel}

-- name: create_schema_migrations
CREATE TABLE IF NOT EXISTS schema_migrations (
  component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,
  applied_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (component, version))

-- name: applied_migrations
SELECT component, version FROM schema_migrations

-- name: record_migration
INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)

-- name: analyze
-- Fresh statistics for new indexes after migrations (bounded by analysis_limit on SQLite).
ANALYZE

-- name: auto_vacuum_mode
-- SQLite only: 2 is INCREMENTAL.
PRAGMA auto_vacuum

-- name: freelist_count
PRAGMA freelist_count

-- name: incremental_vacuum
-- Run as a script: it steps the pragma to the end (execute() would free a single page).
PRAGMA incremental_vacuum({pages});

-- name: vacuum
VACUUM

-- name: drop_partition
-- `partition` a quoted name that store/partitions.py checked against the monthly pattern.
DROP TABLE {partition}
