-- PostgreSQL's texts of forwarding's statements that differ: arrays as `= ANY(?)`, claims with SKIP LOCKED.

-- name: delivery_states_clause
d.state = ANY(?)

-- name: due_deliveries
SELECT d.id FROM deliveries d
WHERE d.destination_id = ? AND d.state IN ('pending', 'retrying') AND d.next_attempt_at <= ?
  AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ?)
ORDER BY d.next_attempt_at, d.id LIMIT ? FOR UPDATE OF d SKIP LOCKED;

-- name: due_ordered_deliveries
SELECT d.id FROM deliveries d
WHERE d.destination_id = ? AND d.state IN ('pending', 'retrying') AND d.next_attempt_at <= ?
  AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ?)
  AND (d.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries e
    WHERE e.destination_id = d.destination_id AND e.ordering_key = d.ordering_key
      AND e.state IN ('pending', 'retrying') AND e.id <> d.id
      AND ((e.occurred_at, e.event_id, e.id) < (d.occurred_at, d.event_id, d.id) OR e.lease_expires_at > ?)))
ORDER BY d.next_attempt_at, d.id LIMIT ? FOR UPDATE OF d SKIP LOCKED;

-- name: lease_deliveries
UPDATE deliveries SET lease_owner = ?, lease_expires_at = ? WHERE id = ANY(?);

-- name: claimed_deliveries
SELECT id, destination_id, webhook_id, origin, attempts, started_at, event_id
FROM deliveries WHERE id = ANY(?) ORDER BY id;
