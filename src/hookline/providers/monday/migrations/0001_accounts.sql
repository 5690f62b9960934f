-- monday.com accounts and the board webhooks hookline created. hookline needs the API token and the
-- app's signing secret (JWT of incoming events) in clear, so both are sealed by hookline/secretbox.py
-- (encrypted when HOOKLINE_SECRET_KEY is set); never printed (only masked hints) nor logged.
CREATE TABLE monday_accounts (
    name              TEXT PRIMARY KEY,
    token             TEXT NOT NULL,
    token_hint        TEXT NOT NULL,
    signing_secret    TEXT,
    monday_account_id TEXT,
    created_at        DOUBLE PRECISION NOT NULL
);

CREATE TABLE monday_webhooks (
    id         TEXT PRIMARY KEY,
    account    TEXT NOT NULL REFERENCES monday_accounts (name) ON DELETE CASCADE,
    board_id   TEXT NOT NULL,
    event      TEXT NOT NULL,
    config     TEXT,
    url        TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX monday_webhooks_account ON monday_webhooks (account, board_id);
