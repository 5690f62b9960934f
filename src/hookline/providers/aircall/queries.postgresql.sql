-- PostgreSQL's text of the Aircall statements that differ (queries.sql has the rest).

-- name: claim_recordings
-- SKIP LOCKED gives concurrent archivers disjoint rows.
UPDATE aircall_recordings SET state = 'running', claim = ?, attempts = attempts + 1, run_at = ?, updated_at = ?
WHERE id IN (
    SELECT id FROM aircall_recordings
    WHERE state IN ('pending', 'running') AND run_at <= ?
      AND account NOT IN (SELECT account FROM oauth_installations WHERE provider = 'aircall' AND NOT installed)
    ORDER BY run_at LIMIT ?
    FOR UPDATE SKIP LOCKED
)
RETURNING id, account, call_id, kind, started_at, attempts;

-- name: rollups_batch_start
-- A setting local to the transaction (migration 0012): a row of aircall_call_rollup_mode would have
-- every worker wait for the other's commit.
SELECT set_config('hookline.aircall_rollups', 'batched', true);

-- name: rollups_batch_end
SELECT set_config('hookline.aircall_rollups', '', true);
