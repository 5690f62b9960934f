-- Calendly and monday.com installs: the app's webhook signing key / signing secret, what a state
-- carries to its callback, and refresh tokens that rotate.

-- The app's webhook signing key (Calendly) or signing secret (monday.com), a SecretBox value.
ALTER TABLE oauth_apps ADD COLUMN webhook_secret TEXT;

-- What the callback needs besides the state: the PKCE code_verifier (Calendly), the account whose
-- boards are being picked (monday.com). Deleted with the state.
ALTER TABLE oauth_states ADD COLUMN payload TEXT;

-- token_version grows by one at every stored refresh: a refresh is stored only over the version it
-- started from, so two processes never both store (one rotated refresh token would be lost).
-- refreshing_until is the lease of the process refreshing now; the others wait for its result.
-- failing_since/failure: the last refresh failed for a reason other than a refusal (provider down).
ALTER TABLE oauth_installations ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE oauth_installations ADD COLUMN refreshing_until DOUBLE PRECISION;
ALTER TABLE oauth_installations ADD COLUMN failing_since DOUBLE PRECISION;
ALTER TABLE oauth_installations ADD COLUMN failure TEXT;
