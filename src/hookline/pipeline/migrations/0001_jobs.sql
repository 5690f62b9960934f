-- The work queue: one job per new event, claimed by workers, deleted once processed.
-- `run_at` is "not before": for a queued job the earliest time it may run (retry backoff), for a
-- running job the end of its lease. So one condition (state <> 'parked' AND run_at <= now) finds both
-- due jobs and jobs whose worker died, and one index serves the claim.
CREATE TABLE jobs (
    id          {{identity}},
    event_id    BIGINT  NOT NULL,
    provider    TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'queued',  -- queued | running | parked
    run_at      DOUBLE PRECISION NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    claim       TEXT,                               -- the claiming batch's token while running
    received_at DOUBLE PRECISION NOT NULL,          -- the event's, for lag
    last_error  TEXT,
    updated_at  DOUBLE PRECISION NOT NULL
);
CREATE UNIQUE INDEX jobs_event ON jobs (event_id);
CREATE INDEX jobs_due ON jobs (run_at) WHERE state <> 'parked';
CREATE INDEX jobs_claim ON jobs (claim) WHERE claim IS NOT NULL;
CREATE INDEX jobs_parked ON jobs (id) WHERE state = 'parked';

-- Events stored before the pipeline existed get processed too.
INSERT INTO jobs (event_id, provider, run_at, received_at, updated_at)
SELECT id, provider, received_at, received_at, received_at FROM events ORDER BY id;
