-- The board_items projection: the latest known state of each monday.com item (or subitem).
-- monday sends changes, not snapshots: each field is a last-writer-wins register whose version
-- (trigger time, rank, digest) is kept in `versions` (and, per column, inside `column_values`), so any
-- order of the same events gives the same row. JSON columns hold canonical JSON text.
CREATE TABLE board_items (
    account        TEXT NOT NULL,
    item_id        TEXT NOT NULL,
    board_id       TEXT,
    parent_item_id TEXT,
    name           TEXT,
    group_id       TEXT,
    state          TEXT NOT NULL,
    column_values  TEXT NOT NULL,
    versions       TEXT NOT NULL,
    updated_at     DOUBLE PRECISION,
    PRIMARY KEY (account, item_id)
);
CREATE INDEX board_items_board ON board_items (account, board_id);
