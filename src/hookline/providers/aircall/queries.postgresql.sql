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
