-- Aircall accounts (API credentials), watchdog incidents and backfill checkpoints.

-- `secret` is the API token or the OAuth token: "fernet:<token>" when HOOKLINE_SECRET_KEY was set when
-- it was stored, else "plain:<secret>". It is never shown: listings print only the masked api_id.
CREATE TABLE aircall_accounts (
    name       TEXT PRIMARY KEY,
    scheme     TEXT NOT NULL,
    api_id     TEXT,
    secret     TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);

-- One row per webhook the watchdog found inactive and re-enabled (or failed to).
CREATE TABLE aircall_incidents (
    id              {{identity}},
    account         TEXT NOT NULL,
    webhook_id      TEXT NOT NULL,
    url             TEXT NOT NULL,
    detected_at     DOUBLE PRECISION NOT NULL,
    reenabled_at    DOUBLE PRECISION,
    last_event_at   DOUBLE PRECISION,
    backfill_since  DOUBLE PRECISION,
    backfill_until  DOUBLE PRECISION,
    backfill_status TEXT NOT NULL DEFAULT 'pending',
    backfill_new    INTEGER NOT NULL DEFAULT 0,
    error           TEXT
);
CREATE INDEX aircall_incidents_account ON aircall_incidents (account, detected_at);

-- Progress of one backfill of one resource over one window, so an interrupted run resumes.
-- `position` is the creation time (unix s) up to which every record has been committed.
CREATE TABLE aircall_backfill_checkpoints (
    account    TEXT NOT NULL,
    resource   TEXT NOT NULL,
    since      DOUBLE PRECISION NOT NULL,
    until      DOUBLE PRECISION NOT NULL,
    position   DOUBLE PRECISION NOT NULL,
    fetched    INTEGER NOT NULL DEFAULT 0,
    new        INTEGER NOT NULL DEFAULT 0,
    done       BOOLEAN NOT NULL DEFAULT FALSE,
    started_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account, resource, since, until)
);
