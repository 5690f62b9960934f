-- Forwarding's SQL: destinations (destinations.py), deliveries from the user's side (deliveries.py) and
-- the dispatcher's side (claims.py). Events are read through store/events.py, never joined here.
-- "Open" deliveries are those in state pending or retrying.

-- name: bump_destinations_version
-- A new version tells every cache of the destinations (fan-out's matcher) to reload them.
INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- name: destinations_version
SELECT value FROM settings WHERE key = ?;

-- name: all_destinations
-- The columns of Destination.from_row, in its order (every destination query keeps them).
SELECT id, name, url, events, account, secret, ordered, paused, disabled_reason, disabled_at,
  created_at, consecutive_failures, breaker_open_until
FROM destinations ORDER BY name;

-- name: destination_by_name
SELECT id, name, url, events, account, secret, ordered, paused, disabled_reason, disabled_at,
  created_at, consecutive_failures, breaker_open_until
FROM destinations WHERE name = ?;

-- name: destination_exists
SELECT 1 FROM destinations WHERE name = ?;

-- name: destination_id
SELECT id FROM destinations WHERE name = ?;

-- name: add_destination
INSERT INTO destinations (name, url, events, account, secret, ordered, created_at) VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: pause_destination
UPDATE destinations SET paused = ? WHERE name = ?;

-- name: resume_destination
-- Resuming also clears a 410 disable and closes the breaker.
UPDATE destinations SET paused = ?, disabled_reason = NULL, disabled_at = NULL, consecutive_failures = 0,
  breaker_open_until = NULL
WHERE name = ?;

-- name: count_destination_deliveries
SELECT count(*) FROM deliveries WHERE destination_id = ?;

-- name: delete_destination_deliveries
DELETE FROM deliveries WHERE destination_id = ?;

-- name: delete_destination
DELETE FROM destinations WHERE id = ?;

-- name: insert_delivery
INSERT INTO deliveries (destination_id, event_id, webhook_id, origin, state, ordering_key, occurred_at,
  created_at, started_at, next_attempt_at)
VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?);

-- name: list_deliveries_fragment
-- Followed by WHERE and the delivery_*_clause filters, then list_deliveries_order_clause; the event's
-- provider, account and name come from store/events.py (event_heads).
SELECT d.id, t.name, d.event_id, d.webhook_id, d.origin, d.state, d.attempts, d.created_at,
  d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error, d.delivered_at
FROM deliveries d JOIN destinations t ON t.id = d.destination_id

-- name: delivery_states_clause
-- The states in the array parameter (Connection.array).
d.state IN (SELECT value FROM json_each(?))

-- name: delivery_event_clause
-- Followed by store's of_account_clause (deliveries of one account's events).
d.event_id

-- name: delivery_destination_clause
t.name = ?

-- name: delivery_before_clause
d.id < ?

-- name: delivery_id_clause
d.id = ?

-- name: list_deliveries_order_clause
ORDER BY d.id DESC LIMIT ?

-- name: delivery_state
SELECT state FROM deliveries WHERE id = ?;

-- name: retry_delivery
-- A manual retry starts a fresh budget: attempts and age count again from now.
UPDATE deliveries SET state = 'pending', attempts = 0, started_at = ?, next_attempt_at = ?,
  lease_owner = NULL, lease_expires_at = NULL
WHERE id = ?;

-- name: retry_failed_deliveries
UPDATE deliveries SET state = 'pending', attempts = 0, started_at = ?, next_attempt_at = ?,
  lease_owner = NULL, lease_expires_at = NULL
WHERE state IN ('retrying', 'dead');

-- name: retry_failed_deliveries_of
UPDATE deliveries SET state = 'pending', attempts = 0, started_at = ?, next_attempt_at = ?,
  lease_owner = NULL, lease_expires_at = NULL
WHERE state IN ('retrying', 'dead') AND destination_id = (SELECT id FROM destinations WHERE name = ?);

-- name: count_deliveries_by_state
-- Succeeded ones are not counted: that would scan the whole history.
SELECT t.name, d.state, count(*) FROM deliveries d JOIN destinations t ON t.id = d.destination_id
WHERE d.state <> 'succeeded' GROUP BY t.name, d.state;

-- name: sendable_destinations
-- Not paused, not disabled, breaker closed or due for a probe.
SELECT id, name, url, events, account, secret, ordered, paused, disabled_reason, disabled_at,
  created_at, consecutive_failures, breaker_open_until
FROM destinations WHERE paused = FALSE AND disabled_reason IS NULL
  AND (breaker_open_until IS NULL OR breaker_open_until <= ?)
ORDER BY id;

-- name: next_retry_due
SELECT min(d.next_attempt_at) FROM deliveries d
WHERE d.state IN ('pending', 'retrying') AND d.next_attempt_at > ?;

-- name: next_probe_due
SELECT min(breaker_open_until) FROM destinations
WHERE breaker_open_until > ? AND paused = FALSE AND disabled_reason IS NULL;

-- name: due_deliveries
-- Due, open and not leased deliveries of one destination, oldest attempt first.
-- PostgreSQL locks them with SKIP LOCKED (queries.postgresql.sql): dispatchers never wait on each other.
SELECT d.id FROM deliveries d
WHERE d.destination_id = ? AND d.state IN ('pending', 'retrying') AND d.next_attempt_at <= ?
  AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ?)
ORDER BY d.next_attempt_at, d.id LIMIT ?;

-- name: due_ordered_deliveries
-- As due_deliveries, on an ordered destination: a delivery waits while an earlier one (by occurred_at,
-- then event id) of the same resource is unfinished, or while any of that resource's is in flight.
SELECT d.id FROM deliveries d
WHERE d.destination_id = ? AND d.state IN ('pending', 'retrying') AND d.next_attempt_at <= ?
  AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ?)
  AND (d.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries e
    WHERE e.destination_id = d.destination_id AND e.ordering_key = d.ordering_key
      AND e.state IN ('pending', 'retrying') AND e.id <> d.id
      AND ((e.occurred_at, e.event_id, e.id) < (d.occurred_at, d.event_id, d.id) OR e.lease_expires_at > ?)))
ORDER BY d.next_attempt_at, d.id LIMIT ?;

-- name: take_probe
-- The probe right of a half-open breaker: whoever moves breaker_open_until forward sends the one probe.
UPDATE destinations SET breaker_open_until = ? WHERE id = ? AND breaker_open_until <= ?;

-- name: lease_deliveries
-- The ids in the array parameter (Connection.array).
UPDATE deliveries SET lease_owner = ?, lease_expires_at = ? WHERE id IN (SELECT value FROM json_each(?));

-- name: claimed_deliveries
-- What a Job needs from the delivery; its event comes from store/events.py (load_events).
SELECT id, destination_id, webhook_id, origin, attempts, started_at, event_id
FROM deliveries WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id;

-- name: delivery_succeeded
-- Every outcome is fenced by the lease owner: a dispatcher whose lease lapsed writes nothing.
UPDATE deliveries SET state = 'succeeded', lease_owner = NULL, lease_expires_at = NULL,
  attempts = attempts + 1, last_attempt_at = ?, last_status = ?, last_error = NULL, delivered_at = ?
WHERE id = ? AND lease_owner = ?;

-- name: delivery_retrying
UPDATE deliveries SET state = 'retrying', lease_owner = NULL, lease_expires_at = NULL,
  attempts = attempts + 1, last_attempt_at = ?, last_status = ?, next_attempt_at = ?, last_error = ?
WHERE id = ? AND lease_owner = ?;

-- name: delivery_dead
UPDATE deliveries SET state = 'dead', lease_owner = NULL, lease_expires_at = NULL,
  attempts = attempts + 1, last_attempt_at = ?, last_status = ?, last_error = ?
WHERE id = ? AND lease_owner = ?;

-- name: delivery_unleased
-- Not attempted (skipped): the lease goes back, nothing else changes.
UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ?;

-- name: breaker_after_success
-- A success in the batch: the failures since it decide the breaker (opened at the threshold).
UPDATE destinations SET consecutive_failures = ?,
  breaker_open_until = CASE WHEN ? >= ? THEN CAST(? AS DOUBLE PRECISION) ELSE NULL END
WHERE id = ?;

-- name: breaker_after_failures
UPDATE destinations SET consecutive_failures = consecutive_failures + ?,
  breaker_open_until = CASE WHEN consecutive_failures + ? >= ? THEN ? ELSE breaker_open_until END
WHERE id = ?;

-- name: disable_gone_destination
-- 410 Gone: the destination is disabled until resumed.
UPDATE destinations SET disabled_reason = ?, disabled_at = ? WHERE id = ? AND disabled_reason IS NULL;

-- name: release_all_leases
-- SQLite start: the only dispatcher of the file, so every lease left is stale.
UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner IS NOT NULL;

-- name: release_leases
UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ?;
