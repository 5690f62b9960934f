-- The recordings archive: one row per call and kind (recording, voicemail) wanted on disk.
--
-- Rows are written by the worker's projection transaction (idempotent: ON CONFLICT DO NOTHING) and
-- downloaded by the archiver loop outside it. Like the jobs table, `run_at` means "not before": the
-- end of the retry backoff for a pending row, the end of the lease for a running one, so one condition
-- finds due rows and rows whose archiver died. Not a projection: `hookline rebuild` keeps it, so a
-- replay never downloads a file again.
CREATE TABLE aircall_recordings (
    id          {{identity}},
    account     TEXT    NOT NULL,
    call_id     BIGINT  NOT NULL,
    kind        TEXT    NOT NULL,                   -- recording | voicemail
    started_at  DOUBLE PRECISION,                   -- the call's, for the <yyyy>/<mm> of the path
    state       TEXT    NOT NULL DEFAULT 'pending', -- pending | running | archived | parked
    run_at      DOUBLE PRECISION NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    claim       TEXT,
    last_error  TEXT,
    path        TEXT,                               -- relative to HOOKLINE_RECORDINGS_DIR
    size        BIGINT,
    sha256      TEXT,
    archived_at DOUBLE PRECISION,
    created_at  DOUBLE PRECISION NOT NULL,
    updated_at  DOUBLE PRECISION NOT NULL,
    UNIQUE (account, call_id, kind)
);
CREATE INDEX aircall_recordings_due ON aircall_recordings (run_at) WHERE state IN ('pending', 'running');
CREATE INDEX aircall_recordings_call ON aircall_recordings (call_id);
