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
