-- monday.com's statements: the board_items projection and the webhooks hookline created.
-- Loaded by name with hookline.store.queries.load_queries (see that module for the file's rules).

-- ---------------------------------------------------------------- board items (board_items.py)

-- name: ensure_board_item
-- Read-merge-write happens under the row's lock: the row is made first so that there is one to lock.
INSERT INTO board_items (account, item_id, state, column_values, versions) VALUES (?, ?, 'active', '{}', '{}')
ON CONFLICT (account, item_id) DO NOTHING;

-- name: lock_board_item
-- Two workers on one item take turns instead of losing each other's registers: PostgreSQL locks the row
-- (queries.postgresql.sql); SQLite's transaction already holds the database's single write lock.
SELECT board_id, parent_item_id, name, group_id, state, column_values, versions FROM board_items
WHERE account = ? AND item_id = ?;

-- name: save_board_item
UPDATE board_items SET board_id = ?, parent_item_id = ?, name = ?, group_id = ?, state = ?,
    column_values = ?, versions = ?, updated_at = ?
WHERE account = ? AND item_id = ?;

-- ---------------------------------------------------------------- webhooks (cli.py)

-- name: record_webhook
INSERT INTO monday_webhooks (id, account, board_id, event, config, url, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING;

-- name: forget_webhook
DELETE FROM monday_webhooks WHERE id = ?;
-- name: dashboard_account_names
SELECT name FROM monday_accounts ORDER BY name

-- name: dashboard_webhooks_per_account
-- Webhooks and the boards they cover, per account, for the operations block.
SELECT account, count(*), count(DISTINCT board_id) FROM monday_webhooks GROUP BY account

-- name: dashboard_has_accounts
-- Asked on each page view for the nav: one row is enough.
SELECT 1 FROM monday_accounts LIMIT 1

-- name: board_items_api_select_fragment
-- The columns of an item, in board_items_api._COLUMNS order; the filters and order are added to it.
SELECT account, item_id, board_id, parent_item_id, name, group_id, state, column_values, updated_at
FROM board_items

-- name: board_items_api_page_clause
ORDER BY updated_at DESC, account, item_id LIMIT ? OFFSET ?

-- name: board_items_api_first_clause
-- An item by its id: the first account's when several hold it and none is named.
ORDER BY account LIMIT 1
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

-- name: uninstalled_accounts
-- Accounts whose app was uninstalled: their events are refused (their rows stay).
SELECT account FROM oauth_installations WHERE provider = 'monday' AND NOT installed

-- name: webhook_counts
-- The Installations page's webhook state: how many board webhooks each account has.
SELECT account, COUNT(*) FROM monday_webhooks GROUP BY account

-- ---------------------------------------------------------------- lifecycle tokens (oauth_install.py)

-- name: forget_expired_lifecycle_tokens
DELETE FROM monday_lifecycle_tokens WHERE expires_at < ?;

-- name: remember_lifecycle_token
-- No row inserted: the token was seen before (a replay); the primary key decides across processes.
INSERT INTO monday_lifecycle_tokens (digest, expires_at) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING;
