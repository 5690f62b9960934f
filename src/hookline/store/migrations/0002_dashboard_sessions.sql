-- Dashboard sessions, so that sign-out ends a session: the cookie carries a random id, the table
-- only its SHA-256 (a copy of the table signs nobody in). Times are unix seconds.
CREATE TABLE dashboard_sessions (
    id_sha256    TEXT PRIMARY KEY,
    created_at   DOUBLE PRECISION NOT NULL,
    last_seen_at DOUBLE PRECISION NOT NULL,
    expires_at   DOUBLE PRECISION NOT NULL,
    user_agent   TEXT
);
CREATE INDEX dashboard_sessions_expires ON dashboard_sessions (expires_at);
