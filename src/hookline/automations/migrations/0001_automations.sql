-- Automations: rules that act on events, their runs (the queue of effects) and the alerts they open.
CREATE TABLE rules (
    id          {{identity}},
    name        TEXT    NOT NULL UNIQUE,
    spec        TEXT    NOT NULL,                 -- the rule as JSON (on, if, window, hours, mode, steps)
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  DOUBLE PRECISION NOT NULL,
    updated_at  DOUBLE PRECISION NOT NULL
);

-- One row per rule and matching event: the unique key is what makes duplicates of a webhook run a rule once.
CREATE TABLE automation_runs (
    id          {{identity}},
    rule_id     {{bigint}}  NOT NULL REFERENCES rules (id) ON DELETE CASCADE,
    rule_name   TEXT    NOT NULL,
    event_id    {{bigint}}  NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    mode        TEXT    NOT NULL DEFAULT 'live',  -- live | dry-run
    window_key  TEXT    NOT NULL DEFAULT '',      -- the rule's window `by` value ('' without a window)
    state       TEXT    NOT NULL DEFAULT 'pending', -- pending | running | succeeded | failed | parked | dry-run
    attempts    INTEGER NOT NULL DEFAULT 0,
    run_at      DOUBLE PRECISION NOT NULL,        -- due time, or while running the end of the lease
    claim       TEXT,
    steps       TEXT    NOT NULL DEFAULT '[]',    -- JSON: each finished step's request and outcome
    last_error  TEXT,
    created_at  DOUBLE PRECISION NOT NULL,
    updated_at  DOUBLE PRECISION NOT NULL,
    finished_at DOUBLE PRECISION,
    UNIQUE (rule_id, event_id)
);
CREATE INDEX automation_runs_due ON automation_runs (run_at) WHERE state IN ('pending', 'running');
CREATE INDEX automation_runs_rule ON automation_runs (rule_name, id);

-- Matches of windowed rules, counted from the database so the count holds across worker processes.
CREATE TABLE automation_matches (
    rule_id     {{bigint}}  NOT NULL REFERENCES rules (id) ON DELETE CASCADE,
    event_id    {{bigint}}  NOT NULL,
    window_key  TEXT    NOT NULL,
    at          DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (rule_id, event_id)
);
CREATE INDEX automation_matches_window ON automation_matches (rule_id, window_key, at);

-- At most one open alert per rule and window key: later matches count on it instead of opening more.
CREATE TABLE alerts (
    id          {{identity}},
    rule_name   TEXT    NOT NULL,
    window_key  TEXT    NOT NULL DEFAULT '',
    severity    TEXT    NOT NULL DEFAULT 'warning',
    title       TEXT    NOT NULL,
    event_id    {{bigint}},                           -- the event that opened it
    count       INTEGER NOT NULL DEFAULT 1,       -- runs that hit it while it was open
    opened_at   DOUBLE PRECISION NOT NULL,
    last_at     DOUBLE PRECISION NOT NULL,
    acked_at    DOUBLE PRECISION
);
CREATE UNIQUE INDEX alerts_open ON alerts (rule_name, window_key) WHERE acked_at IS NULL;
