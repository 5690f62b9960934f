-- PostgreSQL's texts of the pipeline's statements that differ.

-- name: enqueue_jobs
-- The whole batch in one statement (one array per column), and the NOTIFY with it: one round trip.
-- NOTIFY is transactional: listeners hear it only once the events and their jobs are committed.
WITH ins AS (INSERT INTO jobs (event_id, provider, run_at, received_at, updated_at)
  SELECT e, p, r, r, r FROM unnest(?::bigint[], ?::text[], ?::float8[]) AS t (e, p, r))
SELECT pg_notify('hookline_jobs_' || lpad(to_hex(hashtext(coalesce(current_schema(), ''))), 8, '0'), '');  -- Connection.notify's scope

-- name: claim_jobs
-- SKIP LOCKED: workers claiming at once neither wait on each other nor take the same job.
UPDATE jobs SET state = 'running', claim = ?, attempts = attempts + 1, run_at = ?, updated_at = ?
WHERE id IN (SELECT id FROM jobs WHERE state <> 'parked' AND run_at <= ?
  ORDER BY run_at LIMIT ? FOR UPDATE SKIP LOCKED)
RETURNING id, event_id, provider, attempts, received_at;
