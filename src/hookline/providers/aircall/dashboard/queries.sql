-- Aircall's dashboard pages. An optional account filter is `(CAST(? AS TEXT) IS NULL OR account = ?)`,
-- the account passed twice: the cast gives PostgreSQL the parameter's type when it is NULL.

-- name: analytics_hours
-- The calls rollup kept by triggers on aircall_calls (migration 0006): a few rows per hour.
SELECT hour, outbound, missed, answered, reason, sum(calls) FROM aircall_call_hours
WHERE hour >= ? AND hour < ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
GROUP BY hour, outbound, missed, answered, reason

-- name: analytics_agent_days
SELECT account, user_id, sum(seconds), sum(calls) FROM aircall_call_agent_days
WHERE day >= ? AND day < ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
GROUP BY account, user_id

-- name: analytics_wrap_up_days
-- Wrap-up pairs kept by the projection (wrap_ups.py, migration 0008): both days inside the period.
SELECT account, user_id, sum(seconds), sum(pairs) FROM aircall_wrap_up_days
WHERE start_day >= ? AND end_day < ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
GROUP BY account, user_id

-- name: analytics_agent_names
SELECT account, id, COALESCE(name, seen_name) FROM aircall_users

-- name: analytics_sentiment_days
-- Participants per sentiment value and day, kept by triggers on aircall_call_intelligence (0008).
SELECT sentiment, sum(participants) FROM aircall_sentiment_days
WHERE day >= ? AND day < ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
GROUP BY sentiment

-- name: boards_live_calls
-- Calls not done that started within the live window, oldest first.
-- `data AS nested`: its nested objects, derived from data and its parts (nested.py).
SELECT account, id, call_uuid, direction, status, started_at, answered_at, ended_at, duration, missed_call_reason,
  raw_digits, archived, data AS nested, has_recording, has_voicemail, last_event,
  (SELECT p.value FROM aircall_call_parts p
   WHERE p.account = aircall_calls.account AND p.id = aircall_calls.user_part) AS part_user,
  (SELECT p.value FROM aircall_call_parts p
   WHERE p.account = aircall_calls.account AND p.id = aircall_calls.number_part) AS part_number,
  (SELECT p.value FROM aircall_call_parts p
   WHERE p.account = aircall_calls.account AND p.id = aircall_calls.contact_part) AS part_contact
FROM aircall_calls
WHERE status <> 'done' AND started_at >= ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
ORDER BY started_at, id

-- name: boards_agent_names
-- Agents not deleted, for a filter's dropdown.
SELECT id, COALESCE(name, seen_name) FROM aircall_users WHERE deleted = ?

-- name: boards_agents
-- Every agent not deleted with what their state is read from; current_call_id: the agent's latest call
-- that is not done yet (read from the calls, so it is as order-independent as they are).
SELECT u.account, u.id, COALESCE(u.name, u.seen_name) AS name, COALESCE(u.email, u.seen_email) AS email,
  u.available, u.availability_status, u.substatus, u.time_zone, u.language, u.wrap_up_time, u.deleted,
  u.connected, u.in_wrap_up, CASE WHEN u.last_seen < 0 THEN NULL ELSE u.last_seen END AS last_seen,
  (SELECT c.id FROM aircall_calls c WHERE c.account = u.account AND c.user_id = u.id
   AND c.status <> 'done' ORDER BY c.started_at DESC, c.id DESC LIMIT 1) AS current_call_id,
  u.connected_ts AS presence_at, u.wrap_up_ts AS wrap_up_at
FROM aircall_users u
WHERE u.deleted = ? AND (CAST(? AS TEXT) IS NULL OR u.account = ?)
ORDER BY name, u.id

-- name: operations_accounts
SELECT name FROM aircall_accounts

-- name: operations_webhooks
SELECT account, count(*) FROM aircall_tokens GROUP BY account
