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
-- A background writer whose deletes can be redone (retention): its commits are atomic but skip the fsync
-- (WAL: the next FULL commit of the committer makes them durable), so it holds the write lock far shorter.
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

-- name: table_rows_high_fragment
-- Followed by a table name: with table_rows_low_fragment, its rows where the engine keeps no count
-- (high - low). SQLite: the span of its rowids (one seek at each end of the b-tree; retention deletes the
-- oldest rows, so the span has few gaps); PostgreSQL (statistics missing or small): count(*) - 0.
SELECT COALESCE(max(rowid), 0) FROM

-- name: table_rows_low_fragment
SELECT COALESCE(min(rowid) - 1, 0) FROM

-- name: table_sample_fragment
-- After "FROM table": the newest rows, whose average size estimates the bytes of the whole table.
ORDER BY rowid DESC LIMIT 200

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

-- name: page_by_occurrence
-- `rules test`: events that say when they happened, in (occurred_at, id) order after a position.
SELECT id, provider, account, event, origin, occurred_at, received_at, body
FROM events WHERE occurred_at IS NOT NULL AND (occurred_at > ? OR (occurred_at = ? AND id > ?))
ORDER BY occurred_at, id LIMIT ?;

-- name: page_by_occurrence_until
SELECT id, provider, account, event, origin, occurred_at, received_at, body
FROM events WHERE occurred_at IS NOT NULL AND (occurred_at > ? OR (occurred_at = ? AND id > ?))
  AND occurred_at <= ?
ORDER BY occurred_at, id LIMIT ?;

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
