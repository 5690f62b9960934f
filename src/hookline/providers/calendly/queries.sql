-- name: dashboard_account_names
SELECT name FROM calendly_accounts ORDER BY name

-- name: dashboard_subscription_states
-- One row per webhook subscription: the operations block says "active" only when all of an account's are.
SELECT account, state FROM calendly_subscriptions ORDER BY uri

-- name: dashboard_has_accounts
-- Asked on each page view for the nav: one row is enough.
SELECT 1 FROM calendly_accounts LIMIT 1

-- name: bookings_api_select_fragment
-- The columns of a booking, in bookings_api._COLUMNS order. The new side of a reschedule names the old
-- one: the link is read from there too (two workers may have projected both sides at once, neither
-- seeing the other). The filters and order are added to it.
SELECT id, account, invitee_uri, scheduled_event_uri, event_type_uri, event_name, start_time, end_time,
  status, name, email, timezone, no_show, canceled_at, cancel_reason, canceler_type,
  (rescheduled OR (SELECT min(n.invitee_uri) FROM bookings n WHERE n.account = bookings.account
    AND n.old_invitee = bookings.invitee_uri) IS NOT NULL),
  old_invitee,
  COALESCE(new_invitee, (SELECT min(n.invitee_uri) FROM bookings n WHERE n.account = bookings.account
    AND n.old_invitee = bookings.invitee_uri)),
  questions_and_answers, tracking, created_at, updated_at
FROM bookings

-- name: bookings_api_page_clause
ORDER BY start_time DESC, invitee_uri LIMIT ? OFFSET ?

-- name: bookings_api_by_id_clause
-- A booking by its uuid: the first account's when several hold it and none is named.
WHERE id = ? ORDER BY account LIMIT 1

-- name: bookings_api_by_id_in_account_clause
WHERE id = ? AND account = ?

-- name: bookings_api_by_uri_clause
WHERE account = ? AND invitee_uri = ?
