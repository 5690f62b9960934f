-- Automations' SQL: rules (rules.py), runs (runs.py), window matches (matcher.py), alerts (alerts.py),
-- and what the built-in actions read (builtin_actions.py). Events come from store/events.py.

-- name: all_rules
-- The columns of Rule.from_row, in its order.
SELECT id, name, spec, enabled, created_at, updated_at FROM rules ORDER BY name;

-- name: enabled_rules
SELECT id, name, spec, enabled, created_at, updated_at FROM rules WHERE enabled = TRUE ORDER BY name;

-- name: rule_by_name
SELECT id, name, spec, enabled, created_at, updated_at FROM rules WHERE name = ?;

-- name: rule_spec
SELECT spec FROM rules WHERE id = ?;

-- name: add_rule
INSERT INTO rules (name, spec, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?);

-- name: update_rule
UPDATE rules SET spec = ?, enabled = ?, updated_at = ? WHERE id = ?;

-- name: set_rule_enabled
UPDATE rules SET enabled = ?, updated_at = ? WHERE name = ?;

-- name: remove_rule
-- Its runs and window matches go with it (ON DELETE CASCADE); alerts stay: they are history.
DELETE FROM rules WHERE name = ?;

-- name: claim_runs
-- Due runs (pending, or running with a lapsed lease: its process died) taken under a claim token.
-- PostgreSQL adds FOR UPDATE SKIP LOCKED (queries.postgresql.sql).
UPDATE automation_runs SET state = 'running', claim = ?, attempts = attempts + 1, run_at = ?, updated_at = ?
WHERE id IN (SELECT id FROM automation_runs WHERE state IN ('pending', 'running') AND run_at <= ?
  ORDER BY run_at, id LIMIT ?)
RETURNING id, rule_id, rule_name, event_id, window_key, attempts, steps;

-- name: next_run_due
SELECT min(run_at) FROM automation_runs WHERE state IN ('pending', 'running') AND run_at > ?;

-- name: renew_runs
UPDATE automation_runs SET run_at = ?, updated_at = ? WHERE claim = ? AND state = 'running';

-- name: record_run_steps
-- A step ended: its outcome is stored before the next one starts; fenced by the claim.
UPDATE automation_runs SET steps = ?, updated_at = ? WHERE id = ? AND claim = ?;

-- name: finish_run
UPDATE automation_runs SET state = ?, claim = NULL, steps = ?, last_error = ?, run_at = ?,
  updated_at = ?, finished_at = ?
WHERE id = ? AND claim = ?;

-- name: release_runs
-- Handed back untouched (shutdown): due at once, the attempt not counted.
UPDATE automation_runs SET state = 'pending', claim = NULL, run_at = ?, attempts = attempts - 1, updated_at = ?
WHERE claim = ? AND state = 'running';

-- name: list_runs_fragment
-- The columns of runs.COLUMNS; followed by WHERE and the run_*_clause filters, then list_runs_order_clause.
SELECT r.id, r.rule_id, r.rule_name, r.event_id, r.mode, r.window_key, r.state, r.attempts, r.run_at,
  r.steps, r.last_error, r.created_at, r.updated_at, r.finished_at
FROM automation_runs r

-- name: run_rule_clause
r.rule_name = ?

-- name: run_state_clause
r.state = ?

-- name: run_before_clause
r.id < ?

-- name: run_id_clause
r.id = ?

-- name: list_runs_order_clause
ORDER BY r.id DESC LIMIT ?

-- name: retry_run
-- A failed or parked run queued again with a fresh attempt budget; steps that succeeded are kept.
UPDATE automation_runs SET state = 'pending', attempts = 0, run_at = ?, updated_at = ?, finished_at = NULL
WHERE id = ? AND state IN ('failed', 'parked');

-- name: count_runs_by_rule
SELECT rule_name, state, count(*) FROM automation_runs WHERE created_at >= ? GROUP BY rule_name, state;

-- name: add_window_match
INSERT INTO automation_matches (rule_id, event_id, window_key, at) VALUES (?, ?, ?, ?)
ON CONFLICT (rule_id, event_id) DO NOTHING;

-- name: window_matches
-- The matches of one rule and key that can share a window with one at `at`: (at - seconds, at + seconds).
SELECT at, event_id FROM automation_matches WHERE rule_id = ? AND window_key = ? AND at > ? AND at < ?
ORDER BY at, event_id;

-- name: my_open_alert
-- The alert this event opened, when its run asks again (resumed after a crash).
SELECT id FROM alerts WHERE rule_name = ? AND window_key = ? AND acked_at IS NULL AND event_id = ?;

-- name: open_or_count_alert
-- At most one open alert per rule and window key (a partial unique index): an open one counts a hit.
INSERT INTO alerts (rule_name, window_key, severity, title, event_id, count, opened_at, last_at)
VALUES (?, ?, ?, ?, ?, 1, ?, ?)
ON CONFLICT (rule_name, window_key) WHERE acked_at IS NULL
DO UPDATE SET count = alerts.count + 1, last_at = excluded.last_at
RETURNING id, count;

-- name: list_alerts
-- The columns of alerts.COLUMNS.
SELECT id, rule_name, window_key, severity, title, event_id, count, opened_at, last_at, acked_at
FROM alerts ORDER BY id DESC LIMIT ?;

-- name: list_open_alerts
SELECT id, rule_name, window_key, severity, title, event_id, count, opened_at, last_at, acked_at
FROM alerts WHERE acked_at IS NULL ORDER BY id DESC LIMIT ?;

-- name: get_alert
SELECT id, rule_name, window_key, severity, title, event_id, count, opened_at, last_at, acked_at
FROM alerts WHERE id = ?;

-- name: ack_alert
UPDATE alerts SET acked_at = ? WHERE id = ? AND acked_at IS NULL;

-- name: forward_destination
-- The `forward` action: the destination it names, and whether the event has a delivery to it already.
SELECT id FROM destinations WHERE name = ?;

-- name: delivery_of_event
SELECT 1 FROM deliveries WHERE destination_id = ? AND event_id = ?;

-- name: enabled_rule_versions
-- The matcher's cache check: which enabled rules changed since it compiled them.
SELECT id, updated_at FROM rules WHERE enabled = TRUE;

-- name: rules_by_ids
-- The rules whose ids are in the array parameter (Connection.array).
SELECT id, name, spec FROM rules WHERE id IN (SELECT value FROM json_each(?));
