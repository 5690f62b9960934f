-- The event log: one row per unique event, the raw body byte-for-byte.
CREATE TABLE events (
    id              {{identity}},
    provider        TEXT    NOT NULL,
    account         TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    resource        TEXT,
    resource_id     TEXT,
    occurred_at     DOUBLE PRECISION,
    received_at     DOUBLE PRECISION NOT NULL,
    dedup_key       TEXT    NOT NULL,
    duplicate_count INTEGER NOT NULL DEFAULT 0,
    last_seen_at    DOUBLE PRECISION NOT NULL,
    known           BOOLEAN NOT NULL,
    origin          TEXT    NOT NULL DEFAULT 'webhook',
    headers         TEXT    NOT NULL DEFAULT '{}',
    body            {{blob}}    NOT NULL
);
CREATE UNIQUE INDEX events_dedup ON events (provider, account, dedup_key);
CREATE INDEX events_event ON events (provider, event, id);
CREATE INDEX events_account ON events (provider, account, id);
CREATE INDEX events_received ON events (received_at);
CREATE INDEX events_resource ON events (provider, resource, resource_id);

-- Small key/value store for instance state (the admin token's hash, ...).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
