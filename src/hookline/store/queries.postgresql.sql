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
