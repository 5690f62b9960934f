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

-- name: table_columns
SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position;

-- name: background_durability
-- Commits do not wait for the WAL flush (atomic still; a crash may undo the last ones, redone next pass).
SET synchronous_commit = off;

-- name: storage_size
SELECT pg_database_size(current_database()), NULL, pg_total_relation_size('events');

-- name: relation_size
-- The table and every partition counted (pg_partition_tree lists nothing for a plain table; a partitioned
-- table's parent holds no rows itself); reltuples is -1 before the first ANALYZE (unknown only when no
-- part of the table was ever analyzed).
WITH t AS (SELECT CAST(? AS regclass) AS oid)
SELECT COALESCE(sum(GREATEST(c.reltuples, 0)), 0)::bigint, bool_and(c.reltuples < 0),
  COALESCE(sum(pg_total_relation_size(c.oid)), 0)::bigint
FROM pg_class AS c
WHERE c.oid IN (SELECT oid FROM t UNION SELECT relid FROM pg_partition_tree((SELECT oid FROM t)));

-- name: table_rows_high_fragment
-- A table never analyzed, or one its statistics call small (tables.EXACT_BELOW): counted.
SELECT count(*) FROM

-- name: table_rows_low_fragment
SELECT min(0) FROM

-- name: table_sample_fragment
LIMIT 200

-- name: follow_imported_ids
-- Explicit ids do not move the identity: set it to the highest id stored, never back.
SELECT setval(s.seq, GREATEST((SELECT COALESCE(max(id), 1) FROM events), COALESCE(pg_sequence_last_value(s.seq), 1)))
FROM (SELECT pg_get_serial_sequence('events', 'id')::regclass AS seq) AS s;
