-- Retention's SQL (policies.py). The generic reads and deletes over the tables it purges are composed by
-- store/tables.py; what is specific to hookline's own tables is here.

-- name: event_done_clause
-- An event may go only when nothing still needs it: no job (queued, running or parked), no delivery still
-- to send, no automation run still to execute (alias t: the events table).
NOT EXISTS (SELECT 1 FROM jobs j WHERE j.event_id = t.id)
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = t.id AND d.state IN ('pending', 'retrying'))
  AND NOT EXISTS (SELECT 1 FROM automation_runs r WHERE r.event_id = t.id AND r.state IN ('pending', 'running'))

-- name: delivery_done_clause
t.state IN ('succeeded', 'dead')

-- name: automation_run_done_clause
t.state NOT IN ('pending', 'running')

-- name: delete_event_matches
-- The windowed-rule matches of the deleted events (in the array parameter: Connection.array).
DELETE FROM automation_matches WHERE event_id IN (SELECT value FROM json_each(?));

-- name: advance_purged_before
-- How far the log was purged only moves forward (a later batch may delete older rows of another policy).
INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value
WHERE CAST(settings.value AS DOUBLE PRECISION) < CAST(excluded.value AS DOUBLE PRECISION);

-- name: purged_before
SELECT value FROM settings WHERE key = ?;
