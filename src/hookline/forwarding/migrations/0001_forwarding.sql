-- Forwarding: the user's own HTTP endpoints (destinations) and their persisted delivery queue.
CREATE TABLE destinations (
    id                   {{identity}},
    name                 TEXT    NOT NULL UNIQUE,
    url                  TEXT    NOT NULL,
    events               TEXT    NOT NULL DEFAULT '["*"]', -- JSON list of glob patterns ('call.*', 'aircall:call.*')
    account              TEXT,                             -- only this account's events, when set
    secret               TEXT    NOT NULL,                 -- whsec_<base64>, kept in clear because we sign with it
    ordered              BOOLEAN NOT NULL DEFAULT FALSE,   -- one resource's deliveries in occurred_at order, one at a time
    paused               BOOLEAN NOT NULL DEFAULT FALSE,   -- deliveries queue up but are not sent
    disabled_reason      TEXT,                             -- set by a 410 Gone: no new deliveries until resumed
    disabled_at          DOUBLE PRECISION,
    created_at           DOUBLE PRECISION NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,       -- circuit breaker: open at a threshold ...
    breaker_open_until   DOUBLE PRECISION                  -- ... until then (NULL = closed)
);

-- One row per event x matching destination (and per replay). The row is the queue entry.
CREATE TABLE deliveries (
    id               {{identity}},
    destination_id   {{bigint}} NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    event_id         {{bigint}} NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    webhook_id       TEXT    NOT NULL UNIQUE,              -- Standard Webhooks webhook-id, the same on every retry
    origin           TEXT    NOT NULL DEFAULT 'live',      -- live | replay
    state            TEXT    NOT NULL DEFAULT 'pending',   -- pending | retrying | succeeded | dead
    ordering_key     TEXT,                                 -- provider:resource:resource_id on ordered destinations
    occurred_at      DOUBLE PRECISION NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       DOUBLE PRECISION NOT NULL,
    started_at       DOUBLE PRECISION NOT NULL,            -- start of the retry budget (creation or manual retry)
    next_attempt_at  DOUBLE PRECISION NOT NULL,
    last_attempt_at  DOUBLE PRECISION,
    last_status      INTEGER,
    last_error       TEXT,
    delivered_at     DOUBLE PRECISION,
    lease_owner      TEXT,
    lease_expires_at DOUBLE PRECISION
);
CREATE INDEX deliveries_due ON deliveries (destination_id, next_attempt_at) WHERE state IN ('pending', 'retrying');
CREATE INDEX deliveries_ordering ON deliveries (destination_id, ordering_key, occurred_at)
    WHERE ordering_key IS NOT NULL AND state IN ('pending', 'retrying');
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_state ON deliveries (state, id);
