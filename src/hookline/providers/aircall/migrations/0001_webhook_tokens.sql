-- Aircall webhook tokens. Only a SHA-256 of each token is kept: enough to authenticate, useless to a
-- reader of the database. `hint` shows the first and last characters in listings.
CREATE TABLE aircall_tokens (
    token_sha256 TEXT PRIMARY KEY,
    hint         TEXT NOT NULL,
    account      TEXT NOT NULL,
    webhook_id   TEXT,
    created_at   DOUBLE PRECISION NOT NULL
);
CREATE INDEX aircall_tokens_account ON aircall_tokens (account);
