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
