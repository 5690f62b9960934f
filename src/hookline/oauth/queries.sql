-- The OAuth core's statements for Calendly and monday.com installs (refresh tokens, states with a
-- payload, the app's webhook secret, the Installations page's states).

-- name: app_webhook_secret
-- The app's webhook signing key / signing secret (sealed), NULL when none was given.
SELECT webhook_secret FROM oauth_apps WHERE provider = ?

-- name: set_app_webhook_secret
UPDATE oauth_apps SET webhook_secret = ? WHERE provider = ?

-- name: issue_state_with_payload
INSERT INTO oauth_states (state_sha256, provider, browser_sha256, expires_at, payload) VALUES (?, ?, ?, ?, ?)

-- name: take_state
-- Single-use: the row is deleted as it is read; a state of another browser, provider or an expired
-- one matches nothing and stays (a forged callback cannot spend the admin's state).
DELETE FROM oauth_states WHERE state_sha256 = ? AND provider = ? AND browser_sha256 = ? AND expires_at >= ?
RETURNING payload

-- name: token_row
-- What a refresher decides on: the sealed refresh token, when the access token expires, the version
-- a refresh must be stored over, and whether another process holds the refresh lease.
SELECT refresh_token, expires_at, token_version, refreshing_until, installed
FROM oauth_installations WHERE provider = ? AND account = ?

-- name: claim_refresh
-- The lease: one process refreshes a version; the others wait for its result. Only over the version
-- read, only for an installed account, only when no live lease is held.
UPDATE oauth_installations SET refreshing_until = ?
WHERE provider = ? AND account = ? AND token_version = ? AND installed
  AND (refreshing_until IS NULL OR refreshing_until < ?)

-- name: store_refresh
-- The rotated refresh token replaces the one it was obtained with, guarded by the version (a lease
-- that expired meanwhile and was taken over makes this match nothing: the other result stands).
UPDATE oauth_installations SET refresh_token = ?, expires_at = ?, token_version = token_version + 1,
  refreshing_until = NULL, failing_since = NULL, failure = NULL
WHERE provider = ? AND account = ? AND token_version = ?

-- name: refresh_failed
-- The provider could not refresh now (down, 5xx): the account is failing, the lease is let go.
UPDATE oauth_installations SET refreshing_until = NULL, failing_since = COALESCE(failing_since, ?), failure = ?
WHERE provider = ? AND account = ? AND token_version = ?

-- name: refresh_refused
-- The provider refused the refresh token (invalid_grant, 401): uninstalled, unless another process
-- stored a newer token meanwhile (then the refusal was of a token already rotated away).
UPDATE oauth_installations SET installed = FALSE, uninstalled_at = ?, uninstall_reason = ?,
  refreshing_until = NULL
WHERE provider = ? AND account = ? AND token_version = ? AND installed

-- name: mark_failing
-- An API call with a fresh token was refused, or something else failed for the account.
UPDATE oauth_installations SET failing_since = COALESCE(failing_since, ?), failure = ?
WHERE provider = ? AND account = ? AND installed

-- name: clear_failing
UPDATE oauth_installations SET failing_since = NULL, failure = NULL
WHERE provider = ? AND account = ? AND failing_since IS NOT NULL

-- name: installed_accounts
-- The accounts of one provider installed now (receivers accept only theirs).
SELECT account, external_id FROM oauth_installations WHERE provider = ? AND installed

-- name: uninstalled_accounts
SELECT account FROM oauth_installations WHERE provider = ? AND NOT installed

-- name: installation_failures
-- The Installations page's "failing" state.
SELECT provider, account, failing_since, failure FROM oauth_installations WHERE failing_since IS NOT NULL

-- name: failing_accounts
-- The accounts of one provider marked failing (a watchdog pass clears only these, not every account).
SELECT account FROM oauth_installations WHERE provider = ? AND failing_since IS NOT NULL

-- name: installation_by_external_id
-- An installation by the provider's own id of the installing company/organization (a re-install
-- finds the account it made before).
SELECT provider, account, external_id, integration_id, installed, installed_at, uninstalled_at, uninstall_reason
FROM oauth_installations WHERE provider = ? AND external_id = ?

-- name: installation_of_account
SELECT provider, account, external_id, integration_id, installed, installed_at, uninstalled_at, uninstall_reason
FROM oauth_installations WHERE provider = ? AND account = ?

-- name: record_install
-- Installed now: a re-install clears the uninstall, replaces the refresh token and bumps the token
-- version (a refresh leased over the earlier token then stores nothing), and forgets the failure.
INSERT INTO oauth_installations (provider, account, external_id, integration_id, installed, installed_at,
  uninstalled_at, uninstall_reason, refresh_token, expires_at)
VALUES (?, ?, ?, ?, TRUE, ?, NULL, NULL, ?, ?)
ON CONFLICT (provider, account) DO UPDATE SET external_id = excluded.external_id,
  integration_id = excluded.integration_id, installed = TRUE, installed_at = excluded.installed_at,
  uninstalled_at = NULL, uninstall_reason = NULL, refresh_token = excluded.refresh_token,
  expires_at = excluded.expires_at, token_version = oauth_installations.token_version + 1,
  refreshing_until = NULL, failing_since = NULL, failure = NULL

-- name: mark_uninstalled_fragment
-- Uninstalled (its data stays); only the current install, narrowed by the clauses below.
UPDATE oauth_installations SET installed = FALSE, uninstalled_at = ?, uninstall_reason = ?
WHERE provider = ? AND account = ? AND installed

-- name: of_integration_clause
-- A late event about an earlier install names another integration: it matches nothing.
AND integration_id = ?

-- name: installed_before_clause
-- The refused token was read after the current install (a re-install's token is not refused yet).
AND installed_at <= ?

-- name: purge_expired_states
DELETE FROM oauth_states WHERE expires_at < ?

-- name: count_states
SELECT COUNT(*) FROM oauth_states

-- name: consume_state
-- Single-use, like take_state, without a payload.
DELETE FROM oauth_states WHERE state_sha256 = ? AND provider = ? AND browser_sha256 = ? AND expires_at >= ?

-- name: save_app
-- Create or update the provider's app (the webhook secret is set on its own: set_app_webhook_secret).
INSERT INTO oauth_apps (provider, client_id, client_secret, authorize_url, api_url, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (provider) DO UPDATE SET client_id = excluded.client_id, client_secret = excluded.client_secret,
  authorize_url = excluded.authorize_url, api_url = excluded.api_url, updated_at = excluded.updated_at

-- name: app
SELECT provider, client_id, client_secret, authorize_url, api_url, updated_at FROM oauth_apps WHERE provider = ?

-- name: installation_rows
-- The Installations page, every provider's installs.
SELECT provider, account, installed, installed_at, uninstalled_at, uninstall_reason
FROM oauth_installations ORDER BY provider, account

-- name: any_installation
-- Whether the nav shows the Installations page.
SELECT 1 FROM oauth_installations LIMIT 1
