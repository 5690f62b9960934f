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
