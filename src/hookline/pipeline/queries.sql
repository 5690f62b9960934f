-- The pipeline's SQL: the jobs table (jobs.py) and the log's replays (rebuild.py).
-- Every statement that ends a claim is fenced by the claim token (`AND claim = ?`): a worker whose
-- lease lapsed finds zero rows and rolls its work back instead of applying it a second time.

-- name: enqueue_jobs
-- One job per new event, in the group commit's transaction; one row of (event_id, provider,
-- received_at) per execution here, arrays on PostgreSQL (queries.postgresql.sql).
INSERT INTO jobs (event_id, provider, run_at, received_at, updated_at)
SELECT ?, ?, t, t, t FROM (SELECT ? AS t) AS r;

-- name: claim_jobs
-- Due jobs (queued, or running with a lease that expired) taken under a claim token; the subquery
-- picks them oldest first. PostgreSQL adds FOR UPDATE SKIP LOCKED (queries.postgresql.sql).
UPDATE jobs SET state = 'running', claim = ?, attempts = attempts + 1, run_at = ?, updated_at = ?
WHERE id IN (SELECT id FROM jobs WHERE state <> 'parked' AND run_at <= ? ORDER BY run_at LIMIT ?)
RETURNING id, event_id, provider, attempts, received_at;

-- name: complete_claim
DELETE FROM jobs WHERE claim = ?;

-- name: complete_job
DELETE FROM jobs WHERE id = ? AND claim = ?;

-- name: fail_job
-- Back to the queue until run_at (state 'queued'), or parked; the error is cut by the caller.
UPDATE jobs SET state = ?, run_at = ?, claim = NULL, last_error = ?, updated_at = ?
WHERE id = ? AND claim = ?;

-- name: renew_claim
UPDATE jobs SET run_at = ?, updated_at = ? WHERE claim = ? AND state = 'running';

-- name: release_claim
-- Given back untouched (shutdown): due now, and the attempt does not count.
UPDATE jobs SET state = 'queued', claim = NULL, run_at = ?, attempts = attempts - 1, updated_at = ?
WHERE claim = ? AND state = 'running';

-- name: park_abandoned
-- Jobs whose lease lapsed max_attempts times: their worker keeps dying on them.
UPDATE jobs SET state = 'parked', claim = NULL, updated_at = ?,
  last_error = 'the worker running it stopped before finishing, ' || attempts || ' times'
WHERE state = 'running' AND run_at <= ? AND attempts >= ?;

-- name: list_jobs_fragment
-- Followed by WHERE with the filters below (any of them), then list_jobs_order_clause.
SELECT id, event_id, provider, state, run_at, attempts, claim, received_at, last_error, updated_at FROM jobs

-- name: job_state_clause
state = ?

-- name: job_before_clause
id < ?

-- name: list_jobs_order_clause
ORDER BY id DESC LIMIT ?

-- name: get_job
SELECT id, event_id, provider, state, run_at, attempts, claim, received_at, last_error, updated_at
FROM jobs WHERE id = ?;

-- name: retry_parked_jobs
-- A fresh attempt budget for every parked job.
UPDATE jobs SET state = 'queued', run_at = ?, attempts = 0, updated_at = ? WHERE state = 'parked';

-- name: retry_parked_job
UPDATE jobs SET state = 'queued', run_at = ?, attempts = 0, updated_at = ? WHERE state = 'parked' AND id = ?;

-- name: count_jobs_by_state
SELECT state, count(*) FROM jobs GROUP BY state;

-- name: job_event_clause
-- Followed by store's of_account_clause (jobs of one account's events).
event_id

-- name: jobs_by_state_fragment
-- One account's jobs (/api/stats?account=): followed by job_event_clause and store's of_account_clause, then
-- group_by_state_clause. The queue only holds unfinished and parked jobs, so it stays small.
SELECT state, count(*) FROM jobs WHERE

-- name: group_by_state_clause
GROUP BY state

-- name: oldest_pending_fragment
-- Followed by job_event_clause and store's of_account_clause.
SELECT min(received_at) FROM jobs WHERE state <> 'parked' AND

-- name: oldest_pending_job
SELECT min(received_at) FROM jobs WHERE state <> 'parked';

-- name: delete_all_fragment
-- Followed by a handler's table name (EventHandler.reset: `hookline rebuild` empties its tables).
DELETE FROM
