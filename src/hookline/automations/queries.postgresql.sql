-- PostgreSQL's texts of automations' statements that differ.

-- name: claim_runs
-- SKIP LOCKED: executors claiming at once neither wait on each other nor take the same run.
UPDATE automation_runs SET state = 'running', claim = ?, attempts = attempts + 1, run_at = ?, updated_at = ?
WHERE id IN (SELECT id FROM automation_runs WHERE state IN ('pending', 'running') AND run_at <= ?
  ORDER BY run_at, id LIMIT ? FOR UPDATE SKIP LOCKED)
RETURNING id, rule_id, rule_name, event_id, window_key, attempts, steps;

-- name: rules_by_ids
SELECT id, name, spec FROM rules WHERE id = ANY(?);
