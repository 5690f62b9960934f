-- Calendly accounts (API tokens), webhook signing keys and the subscriptions hookline manages.
-- hookline needs tokens and keys in clear (to call the API, to compute HMACs), so they are sealed by
-- hookline/secretbox.py (encrypted when HOOKLINE_SECRET_KEY is set); never printed (only masked
-- hints) nor logged.
CREATE TABLE calendly_accounts (
    name             TEXT PRIMARY KEY,
    token            TEXT NOT NULL,
    token_hint       TEXT NOT NULL,
    user_uri         TEXT,
    organization_uri TEXT,
    created_at       DOUBLE PRECISION NOT NULL
);

-- Several keys per account are accepted at once (rotation). `expires_at` is set when the
-- subscription of a key is deleted, so retries of events signed before still verify for a while.
CREATE TABLE calendly_signing_keys (
    id          {{identity}},
    account     TEXT NOT NULL REFERENCES calendly_accounts (name) ON DELETE CASCADE,
    signing_key TEXT NOT NULL,
    key_sha256  TEXT NOT NULL UNIQUE,
    hint        TEXT NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    expires_at  DOUBLE PRECISION
);
CREATE INDEX calendly_signing_keys_account ON calendly_signing_keys (account);

CREATE TABLE calendly_subscriptions (
    uri          TEXT PRIMARY KEY,
    account      TEXT NOT NULL REFERENCES calendly_accounts (name) ON DELETE CASCADE,
    callback_url TEXT NOT NULL,
    events       TEXT NOT NULL,
    scope        TEXT NOT NULL,
    key_id       {{bigint}} REFERENCES calendly_signing_keys (id) ON DELETE SET NULL,
    state        TEXT NOT NULL,
    created_at   DOUBLE PRECISION NOT NULL,
    checked_at   DOUBLE PRECISION,
    -- Set while the gap of a recreated subscription still has to be backfilled (retried until done).
    backfill_since DOUBLE PRECISION
);
CREATE INDEX calendly_subscriptions_account ON calendly_subscriptions (account);
