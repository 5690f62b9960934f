-- name: analytics_wrap_ups
-- SQLite, with statistics from a sample (analysis_limit), may prefer events_account: name the index.
SELECT account, resource_id, event, occurred_at FROM events INDEXED BY aircall_events_wrap_up
WHERE provider = 'aircall'
  AND event IN ('user.wut_start', 'user.wut_end', 'user.wut_start.v2', 'user.wut_end.v2')
  AND occurred_at >= ? AND occurred_at < ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
ORDER BY occurred_at, id
