-- PostgreSQL's text of the monday.com statements that differ (queries.sql has the rest).

-- name: lock_board_item
-- FOR UPDATE: two workers on one item take turns on the row.
SELECT board_id, parent_item_id, name, group_id, state, column_values, versions FROM board_items
WHERE account = ? AND item_id = ?
FOR UPDATE;
