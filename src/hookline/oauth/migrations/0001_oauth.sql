-- OAuth apps (one per provider), single-use install states, and installations.

-- The app hookline is for a provider: client_secret is a SecretBox value ("fernet:..." or "plain:...").
CREATE TABLE oauth_apps (
    provider      TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    authorize_url TEXT NOT NULL,
    api_url       TEXT NOT NULL,
    updated_at    DOUBLE PRECISION NOT NULL
);

-- One row per install started: the SHA-256 of the `state` sent to the provider and of the browser
-- cookie it is bound to. Deleted when used (single-use) or purged after it expires.
CREATE TABLE oauth_states (
    state_sha256   TEXT PRIMARY KEY,
    provider       TEXT NOT NULL,
    browser_sha256 TEXT NOT NULL,
    expires_at     DOUBLE PRECISION NOT NULL
);

-- One row per account installed through OAuth. The access token lives with the provider's account
-- (its API client reads it there); refresh_token (sealed) and expires_at are for providers whose
-- tokens expire. `external_id` is the provider's id of the customer (Aircall: company id): a
-- re-install of the same customer finds its account by it.
CREATE TABLE oauth_installations (
    provider        TEXT NOT NULL,
    account         TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    integration_id  TEXT,
    installed       BOOLEAN NOT NULL DEFAULT TRUE,
    installed_at    DOUBLE PRECISION NOT NULL,
    uninstalled_at  DOUBLE PRECISION,
    uninstall_reason TEXT,
    refresh_token   TEXT,
    expires_at      DOUBLE PRECISION,
    PRIMARY KEY (provider, account)
);
CREATE UNIQUE INDEX oauth_installations_external ON oauth_installations (provider, external_id);
