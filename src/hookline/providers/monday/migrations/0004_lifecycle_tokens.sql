-- The app's lifecycle events (uninstall...) carry a JWT that is valid for minutes and does not sign
-- the body: each token is accepted once. Its SHA-256 (never the token) is kept until it expires, in
-- the database so that a restart or another process refuses the replay too.
CREATE TABLE monday_lifecycle_tokens (
    digest     TEXT PRIMARY KEY,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX monday_lifecycle_tokens_expiry ON monday_lifecycle_tokens (expires_at);
