-- How many events the log has taken in, so that /api/stats does not count the whole log (issue 16).
-- append_batch adds each batch's new events and duplicates in its own transaction. One row per slot
-- (a writer process picks one), so that several receivers on PostgreSQL never queue on one row; the
-- totals are the sums.
CREATE TABLE event_counts (
    slot       INTEGER PRIMARY KEY,
    received   BIGINT  NOT NULL DEFAULT 0,
    duplicates BIGINT  NOT NULL DEFAULT 0
);
INSERT INTO event_counts (slot, received, duplicates)
    SELECT 0, count(*), COALESCE(sum(duplicate_count), 0) FROM events;
