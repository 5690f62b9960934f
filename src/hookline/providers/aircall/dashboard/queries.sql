-- Aircall's dashboard pages. An optional account filter is `(CAST(? AS TEXT) IS NULL OR account = ?)`,
-- the account passed twice: the cast gives PostgreSQL the parameter's type when it is NULL.

-- name: analytics_days
-- Calls per day summed by triggers from the hour rollup (migration 0010): a few rows per day.
SELECT day, outbound, missed, answered, reason, sum(calls) FROM aircall_call_days
WHERE day >= ? AND day < ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
GROUP BY day, outbound, missed, answered, reason

-- name: analytics_hour_months
-- Calls per hour of day over whole months (0010).
SELECT hour, outbound, missed, sum(calls) FROM aircall_call_hour_months
WHERE month >= ? AND month < ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
GROUP BY hour, outbound, missed

-- name: analytics_hours
-- Calls per hour of day over a partial month, from the hour rollup kept by triggers on aircall_calls (0006).
SELECT hour - hour / 24 * 24, outbound, missed, sum(calls) FROM aircall_call_hours
WHERE hour >= ? AND hour < ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
GROUP BY hour - hour / 24 * 24, outbound, missed

-- name: analytics_agent_months
SELECT account, user_id, sum(seconds), sum(calls) FROM aircall_call_agent_months
WHERE month >= ? AND month < ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
GROUP BY account, user_id

-- name: analytics_agent_days
SELECT account, user_id, sum(seconds), sum(calls) FROM aircall_call_agent_days
WHERE day >= ? AND day < ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
GROUP BY account, user_id

-- name: analytics_wrap_up_months
-- Wrap-up pairs (0010) that start and end within the period's whole months.
SELECT account, user_id, sum(seconds), sum(pairs) FROM aircall_wrap_up_months
WHERE start_month >= ? AND start_month < ? AND end_month < ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
GROUP BY account, user_id

-- name: analytics_wrap_up_days_starting
-- Wrap-up pairs kept by the projection (wrap_ups.py, migration 0008) that start in the period's leading
-- partial month and end inside the period.
SELECT account, user_id, sum(seconds), sum(pairs) FROM aircall_wrap_up_days
WHERE start_day >= ? AND start_day < ? AND end_day < ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
GROUP BY account, user_id

-- name: analytics_wrap_up_days_ending
-- ... and those that start after the leading partial month and end in the trailing one.
SELECT account, user_id, sum(seconds), sum(pairs) FROM aircall_wrap_up_days
WHERE end_day >= ? AND end_day < ? AND start_day >= ? AND start_day < ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
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
