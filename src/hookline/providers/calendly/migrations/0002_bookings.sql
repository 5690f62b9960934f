-- The bookings projection: one row per invitee, the state of its latest snapshot.
-- snapshot_at/rank/digest order snapshots (created_at, then cancel over the rest, then a digest), so
-- any order of the same events gives the same row. JSON columns hold canonical JSON text.
CREATE TABLE bookings (
    account               TEXT NOT NULL,
    invitee_uri           TEXT NOT NULL,
    id                    TEXT NOT NULL,
    scheduled_event_uri   TEXT,
    event_type_uri        TEXT,
    event_name            TEXT,
    start_time            DOUBLE PRECISION,
    end_time              DOUBLE PRECISION,
    status                TEXT,
    name                  TEXT,
    email                 TEXT,
    timezone              TEXT,
    no_show               BOOLEAN NOT NULL,
    canceled_at           DOUBLE PRECISION,
    cancel_reason         TEXT,
    canceler_type         TEXT,
    rescheduled           BOOLEAN NOT NULL,
    old_invitee           TEXT,
    new_invitee           TEXT,
    questions_and_answers TEXT NOT NULL,
    tracking              TEXT NOT NULL,
    utm_source            TEXT,
    utm_medium            TEXT,
    utm_campaign          TEXT,
    created_at            DOUBLE PRECISION,
    updated_at            DOUBLE PRECISION,
    snapshot_at           DOUBLE PRECISION NOT NULL,
    snapshot_rank         INTEGER NOT NULL,
    snapshot_digest       TEXT NOT NULL,
    PRIMARY KEY (account, invitee_uri)
);
CREATE INDEX bookings_id ON bookings (id);
CREATE INDEX bookings_start ON bookings (start_time);
CREATE INDEX bookings_old_invitee ON bookings (account, old_invitee);
