-- monday.com's statements for OAuth installs (accounts from an install, the boards' webhooks).

-- name: account_exists
SELECT 1 FROM monday_accounts WHERE name = ?

-- name: save_oauth_account
-- An install writes the account with its access token and the app's signing secret (both sealed):
-- events of its board webhooks carry a JWT signed with that secret.
INSERT INTO monday_accounts (name, token, token_hint, signing_secret, monday_account_id, created_at, api_url)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET token = excluded.token, token_hint = excluded.token_hint,
  signing_secret = excluded.signing_secret, monday_account_id = excluded.monday_account_id,
  api_url = excluded.api_url

-- name: save_webhook
INSERT INTO monday_webhooks (id, account, board_id, event, config, url, created_at) VALUES (?, ?, ?, ?, NULL, ?, ?)
ON CONFLICT (id) DO NOTHING

-- name: account_webhooks
SELECT id, board_id, event FROM monday_webhooks WHERE account = ?

-- name: forget_webhook
DELETE FROM monday_webhooks WHERE id = ?

-- name: uninstalled_accounts
-- Accounts whose app was uninstalled: their events are refused (their rows stay).
SELECT account FROM oauth_installations WHERE provider = 'monday' AND NOT installed

-- name: webhook_counts
-- The Installations page's webhook state: how many board webhooks each account has.
SELECT account, COUNT(*) FROM monday_webhooks GROUP BY account
