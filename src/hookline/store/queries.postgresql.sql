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

-- name: follow_imported_ids
-- Explicit ids do not move the identity: set it to the highest id stored, never back.
SELECT setval(s.seq, GREATEST((SELECT COALESCE(max(id), 1) FROM events), COALESCE(pg_sequence_last_value(s.seq), 1)))
FROM (SELECT pg_get_serial_sequence('events', 'id')::regclass AS seq) AS s;
