-- How many times each event's effect was committed: must end at exactly 1.
CREATE TABLE test_effects (
    event_id BIGINT PRIMARY KEY,
    applied  INTEGER NOT NULL
);
