-- Calendly's statements: the bookings projection and the webhook subscriptions hookline manages.
-- Loaded by name with hookline.store.queries.load_queries (see that module for the file's rules).

-- ---------------------------------------------------------------- bookings (bookings.py)

-- name: booking_version
SELECT snapshot_at, snapshot_rank, snapshot_digest, old_invitee, new_invitee FROM bookings
WHERE account = ? AND invitee_uri = ?;

-- name: rescheduled_to
-- The new side of a reschedule may have come first: it names this invitee as its old one.
SELECT min(invitee_uri) FROM bookings WHERE account = ? AND old_invitee = ?;

-- name: upsert_booking
-- The columns in the order of bookings.COLUMNS, then timeparse.EARLIEST and LATEST.
-- Guarded by the version, so that two workers racing on one invitee (PostgreSQL) still keep the
-- greatest snapshot; reschedule links (old_invitee, new_invitee, rescheduled) only accumulate.
-- A stored time no snapshot can beat (Infinity, NaN kept as NULL by SQLite: an older version's) is replaced.
INSERT INTO bookings (
    account, invitee_uri, id, scheduled_event_uri, event_type_uri, event_name, start_time, end_time, status,
    name, email, timezone, no_show, canceled_at, cancel_reason, canceler_type, rescheduled, old_invitee,
    new_invitee, questions_and_answers, tracking, utm_source, utm_medium, utm_campaign, created_at, updated_at,
    snapshot_at, snapshot_rank, snapshot_digest
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (account, invitee_uri) DO UPDATE SET
    id = excluded.id, scheduled_event_uri = excluded.scheduled_event_uri,
    event_type_uri = excluded.event_type_uri, event_name = excluded.event_name,
    start_time = excluded.start_time, end_time = excluded.end_time, status = excluded.status,
    name = excluded.name, email = excluded.email, timezone = excluded.timezone, no_show = excluded.no_show,
    canceled_at = excluded.canceled_at, cancel_reason = excluded.cancel_reason,
    canceler_type = excluded.canceler_type, questions_and_answers = excluded.questions_and_answers,
    tracking = excluded.tracking, utm_source = excluded.utm_source, utm_medium = excluded.utm_medium,
    utm_campaign = excluded.utm_campaign, created_at = excluded.created_at, updated_at = excluded.updated_at,
    snapshot_at = excluded.snapshot_at, snapshot_rank = excluded.snapshot_rank,
    snapshot_digest = excluded.snapshot_digest,
    old_invitee = COALESCE(excluded.old_invitee, bookings.old_invitee),
    new_invitee = COALESCE(excluded.new_invitee, bookings.new_invitee),
    rescheduled = (excluded.rescheduled OR bookings.new_invitee IS NOT NULL)
WHERE (bookings.snapshot_at, bookings.snapshot_rank, bookings.snapshot_digest)
        < (excluded.snapshot_at, excluded.snapshot_rank, excluded.snapshot_digest)
    OR bookings.snapshot_at IS NULL OR bookings.snapshot_at < ? OR bookings.snapshot_at >= ?;

-- name: link_new_invitee
-- A reschedule link is set once and never overwritten.
UPDATE bookings SET new_invitee = ?, rescheduled = ?
WHERE account = ? AND invitee_uri = ? AND new_invitee IS NULL;

-- name: link_old_invitee
UPDATE bookings SET old_invitee = ? WHERE account = ? AND invitee_uri = ? AND old_invitee IS NULL;

-- ---------------------------------------------------------------- subscriptions (subscriptions.py)

-- name: add_subscription
-- Recreating a known subscription only refreshes its state and signing key.
INSERT INTO calendly_subscriptions
    (uri, account, callback_url, events, scope, key_id, state, created_at, checked_at, backfill_since)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)
ON CONFLICT (uri) DO UPDATE SET state = excluded.state, key_id = excluded.key_id;

-- name: subscriptions
SELECT uri, account, callback_url, events, scope, key_id, state, created_at, checked_at, backfill_since
FROM calendly_subscriptions ORDER BY account, created_at;

-- name: subscriptions_of_account
SELECT uri, account, callback_url, events, scope, key_id, state, created_at, checked_at, backfill_since
FROM calendly_subscriptions WHERE account = ? ORDER BY account, created_at;

-- name: mark_subscription
UPDATE calendly_subscriptions SET state = ?, checked_at = ? WHERE uri = ?;

-- name: subscription_backfilled
UPDATE calendly_subscriptions SET backfill_since = NULL WHERE uri = ?;

-- name: remove_subscription
DELETE FROM calendly_subscriptions WHERE uri = ?;
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
-- Calendly's statements for OAuth installs (accounts whose token is refreshed, the app's signing key).

-- name: account_token
-- The sealed access token of an account (an installed account's is replaced at every refresh).
SELECT token FROM calendly_accounts WHERE name = ?

-- name: set_account_token
UPDATE calendly_accounts SET token = ?, token_hint = ? WHERE name = ?

-- name: account_exists
SELECT 1 FROM calendly_accounts WHERE name = ?

-- name: save_oauth_account
-- An install writes the account with its first access token, its user (the installer) and organization.
INSERT INTO calendly_accounts (name, token, token_hint, user_uri, organization_uri, created_at, api_url)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET token = excluded.token, token_hint = excluded.token_hint,
  user_uri = excluded.user_uri, organization_uri = excluded.organization_uri, api_url = excluded.api_url

-- name: forget_subscriptions
-- A re-install replaces the account's subscriptions (the earlier ones were deleted at Calendly).
DELETE FROM calendly_subscriptions WHERE account = ?

-- name: save_subscription
INSERT INTO calendly_subscriptions (uri, account, callback_url, events, scope, key_id, state, created_at,
  checked_at, backfill_since)
VALUES (?, ?, ?, ?, 'organization', NULL, 'active', ?, ?, NULL)

-- name: installed_creators
-- Who created each installed account's subscriptions (the installer: Calendly's `created_by` of its
-- events) -> the account. Events signed with the app's key are routed by it.
SELECT a.user_uri, a.name FROM calendly_accounts a
JOIN oauth_installations i ON i.provider = 'calendly' AND i.account = a.name AND i.installed
WHERE a.user_uri IS NOT NULL

-- name: app_signing_key
SELECT webhook_secret FROM oauth_apps WHERE provider = 'calendly'

-- name: subscription_states
-- The Installations page's webhook state: each account's subscriptions and their last known state.
SELECT account, state FROM calendly_subscriptions

-- ---------------------------------------------------------------- webhook signing keys (keys.py)

-- name: signing_key_by_digest
SELECT id, account FROM calendly_signing_keys WHERE key_sha256 = ?

-- name: unretire_signing_key
-- A key added again verifies for good again.
UPDATE calendly_signing_keys SET expires_at = NULL WHERE id = ?

-- name: add_signing_key
INSERT INTO calendly_signing_keys (account, signing_key, key_sha256, hint, created_at)
VALUES (?, ?, ?, ?, ?) RETURNING id

-- name: signing_key
SELECT signing_key FROM calendly_signing_keys WHERE id = ?

-- name: retire_signing_key
-- Only a key not retired yet: a second retire does not push its end further.
UPDATE calendly_signing_keys SET expires_at = ? WHERE id = ? AND expires_at IS NULL

-- name: remove_signing_key
DELETE FROM calendly_signing_keys WHERE id = ?

-- name: signing_keys
SELECT id, account, hint, created_at, expires_at FROM calendly_signing_keys ORDER BY account, id

-- name: signing_keys_of_account
SELECT id, account, hint, created_at, expires_at FROM calendly_signing_keys WHERE account = ? ORDER BY account, id

-- name: live_signing_keys
-- Every key still accepted: not retired, or within its grace.
SELECT signing_key, account FROM calendly_signing_keys WHERE expires_at IS NULL OR expires_at > ?
