-- PostgreSQL's texts of the event log's statements that differ.

-- name: stored_events
-- The ids as one array parameter: a single plan whatever the batch size.
SELECT id, provider, account, event, origin, occurred_at, received_at, body
FROM events WHERE id = ANY(?) ORDER BY id;

-- name: count_provider_events
SELECT count(*) FROM events WHERE provider = ANY(?);

-- name: page_stored_events
SELECT id, provider, account, event, origin, occurred_at, received_at, body
FROM events WHERE provider = ANY(?) AND id > ? ORDER BY id LIMIT ?;

-- name: event_heads
SELECT id, provider, account, event FROM events WHERE id = ANY(?);

-- name: of_account_clause
IN (SELECT id FROM events WHERE provider = ANY(?) AND account = ?)

-- name: account_event_counts
SELECT count(*), COALESCE(sum(duplicate_count), 0) FROM events WHERE provider = ANY(?) AND account = ?;

-- name: last_received_of
SELECT t.provider, t.account, (SELECT e.received_at FROM events e
  WHERE e.provider = t.provider AND e.account = t.account AND e.origin = ? ORDER BY e.id DESC LIMIT 1)
FROM (SELECT p ->> 0 AS provider, p ->> 1 AS account FROM jsonb_array_elements(?::jsonb) AS p) AS t;

-- name: table_columns
SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position;

-- name: background_durability
-- Commits do not wait for the WAL flush (atomic still; a crash may undo the last ones, redone next pass).
SET synchronous_commit = off;

-- name: storage_size
-- The events table is partitioned: its partitions' sizes, and its key table's.
SELECT pg_database_size(current_database()), NULL,
  (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('events')) + pg_total_relation_size('event_keys');


-- name: append_event
-- The events table is partitioned by month (store/partition_migrations): the dedup key is unique in
-- event_keys, which gives the id. A repeat of a known key finds its key (DO UPDATE returns the row,
-- even one committed by another writer after this statement began) and so its event's (id, received_at),
-- where the events insert conflicts and bumps the counter: the same answer as SQLite's one table.
WITH v (provider, account, event, resource, resource_id, occurred_at, received_at, dedup_key, last_seen_at,
    known, origin, headers, body) AS (
  VALUES (?::text, ?::text, ?::text, ?::text, ?::text, ?::double precision, ?::double precision, ?::text,
    ?::double precision, ?::boolean, ?::text, ?::text, ?::bytea)
), k AS (
  INSERT INTO event_keys (provider, account, dedup_key, received_at)
  SELECT provider, account, dedup_key, received_at FROM v
  ON CONFLICT (provider, account, dedup_key) DO UPDATE SET received_at = event_keys.received_at
  RETURNING id, received_at
)
INSERT INTO events (id, provider, account, event, resource, resource_id, occurred_at, received_at,
  dedup_key, duplicate_count, last_seen_at, known, origin, headers, body)
SELECT k.id, v.provider, v.account, v.event, v.resource, v.resource_id, v.occurred_at, k.received_at,
  v.dedup_key, 0, v.last_seen_at, v.known, v.origin, v.headers, v.body
FROM v, k
ON CONFLICT (id, received_at) DO UPDATE
SET duplicate_count = events.duplicate_count + 1, last_seen_at = excluded.last_seen_at
RETURNING id, duplicate_count;

-- name: event_partitions
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_p[0-9]{6}$' ORDER BY c.relname;

-- name: create_event_partition
SELECT hookline_event_partition(to_timestamp(?));

-- name: partition_lock_timeout
SELECT set_config('lock_timeout', ?, true);

-- name: lock_events
-- Before the last check that a month has no key left: an import appending into that month waits for the drop
-- (its event then lands in the default partition, with its key).
LOCK TABLE events IN ACCESS EXCLUSIVE MODE;

-- name: count_keys_between
SELECT count(*) FROM event_keys WHERE received_at >= ? AND received_at < ?;

-- name: month_keys_fragment
SELECT t.id FROM event_keys t WHERE t.received_at >= ? AND t.received_at < ? AND

-- name: delete_keys_fragment
DELETE FROM event_keys AS t WHERE t.id = ANY(?) AND

-- name: relation_size
-- The table and every partition counted (pg_partition_tree lists nothing for a plain table; a partitioned
-- table's parent holds no rows itself); reltuples is -1 before the first ANALYZE (unknown only when no
-- part of the table was ever analyzed).
WITH t AS (SELECT CAST(? AS regclass) AS oid)
SELECT COALESCE(sum(GREATEST(c.reltuples, 0)), 0)::bigint, bool_and(c.reltuples < 0),
  COALESCE(sum(pg_total_relation_size(c.oid)), 0)::bigint
FROM pg_class AS c
WHERE c.oid IN (SELECT oid FROM t UNION SELECT relid FROM pg_partition_tree((SELECT oid FROM t)));

-- name: table_rows_high
-- A table never analyzed, or one its statistics call small (tables.EXACT_BELOW): counted.
SELECT count(*) FROM {table}

-- name: table_rows_low
SELECT min(0) FROM {table}

-- name: table_sample
SELECT avg({lengths}) FROM (SELECT * FROM {table} LIMIT 200) s

-- name: follow_imported_ids
-- Explicit ids do not move the identity (event_keys gives the ids): set it to the highest id stored, never back.
SELECT setval(s.seq, GREATEST((SELECT COALESCE(max(id), 1) FROM event_keys), COALESCE(pg_sequence_last_value(s.seq), 1)))
FROM (SELECT pg_get_serial_sequence('event_keys', 'id')::regclass AS seq) AS s;

-- name: import_event_keys_fragment
-- `hookline import events`: followed by "VALUES (...), ..." of (id, provider, account, dedup_key, received_at),
-- then import_event_keys_tail_clause: the ids of the keys that were new (their events are then inserted).
INSERT INTO event_keys (id, provider, account, dedup_key, received_at)

-- name: import_event_keys_tail_clause
ON CONFLICT DO NOTHING RETURNING id

-- name: month_held_fragment
SELECT EXISTS (SELECT 1 FROM event_keys t WHERE t.received_at >= ? AND t.received_at < ? AND

-- name: insert_many
-- One statement over arrays (unnest): planned and executed once instead of once per row; `values` are
-- binary parameters cast to the columns' array types (Connection.column_types).
INSERT INTO {table} ({names}) SELECT * FROM unnest({values}) AS u ({names}) {tail}

-- name: column_types
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped

-- name: notify
-- The channel is scoped to the schema (channel_scope): installations sharing a database in schemas
-- of their own do not wake, or re-read the pages of, each other.
SELECT pg_notify(? || '_' || lpad(to_hex(hashtext(coalesce(current_schema(), ''))), 8, '0'), ?)

-- name: channel_scope
SELECT lpad(to_hex(hashtext(coalesce(current_schema(), ''))), 8, '0')

-- name: statement_timeout
-- Milliseconds, as text; session-wide (false: not only this transaction).
SELECT set_config('statement_timeout', ?, false)

-- name: lock_until_commit
SELECT pg_advisory_xact_lock(?, hashtext(?))

-- name: try_advisory_lock
-- Session locks are per database: keyed by the schema too, so hooklines sharing a database in schemas
-- of their own (the tests, a staging copy) never skip each other's rounds.
SELECT pg_try_advisory_lock(?, hashtext(current_schema()))

-- name: advisory_lock
SELECT pg_advisory_lock(?, hashtext(current_schema()))

-- name: advisory_unlock
SELECT pg_advisory_unlock(?, hashtext(current_schema()))

-- name: vacuum
VACUUM (ANALYZE)
