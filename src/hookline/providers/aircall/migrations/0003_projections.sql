-- Aircall projections: the current state of each resource, derived from the event log.
--
-- Order-independent and idempotent: every row (or group of columns, for users) carries the version
-- of the snapshot it holds: v_ts (the event's timestamp), v_rank (where the event stands in the
-- resource's lifecycle, for ties within a second) and v_key (a digest of the data, so that even a
-- full tie has one winner whatever the order). A snapshot is written only over a smaller version.
-- Deletions are snapshots too (deleted = true, the highest rank): a stale update cannot resurrect.
-- JSON columns hold Aircall's nested objects as Aircall sent them. Times are unix seconds.

CREATE TABLE aircall_calls (
    account            TEXT    NOT NULL,
    id                 BIGINT  NOT NULL,
    call_uuid          TEXT,
    direction          TEXT,
    status             TEXT,
    started_at         DOUBLE PRECISION,
    answered_at        DOUBLE PRECISION,
    ended_at           DOUBLE PRECISION,
    duration           INTEGER,
    missed_call_reason TEXT,
    raw_digits         TEXT,
    archived           BOOLEAN,
    user_id            BIGINT,
    number_id          BIGINT,
    contact_id         BIGINT,
    "user"             {{json}}  ,
    number             {{json}}  ,
    contact            {{json}}  ,
    assigned_to        {{json}}  ,
    teams              {{json}}  ,
    tags               {{json}}  ,
    comments           {{json}}  ,
    transferred_by     {{json}}  ,
    transferred_to     {{json}}  ,
    participants       {{json}}  ,
    has_recording      BOOLEAN NOT NULL DEFAULT FALSE,
    has_voicemail      BOOLEAN NOT NULL DEFAULT FALSE,
    last_event         TEXT    NOT NULL,
    data               {{json}}    NOT NULL,
    v_ts               DOUBLE PRECISION NOT NULL DEFAULT -1,
    v_rank             INTEGER NOT NULL DEFAULT -1,
    v_key              TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (account, id)
);
CREATE INDEX aircall_calls_id ON aircall_calls (id);
CREATE INDEX aircall_calls_started ON aircall_calls (started_at);
CREATE INDEX aircall_calls_user ON aircall_calls (user_id, status);
CREATE INDEX aircall_calls_number ON aircall_calls (number_id);

-- Everything received about a call (call.*, conversation intelligence, AI voice agent), one row per
-- event of the log.
CREATE TABLE aircall_call_timeline (
    account     TEXT    NOT NULL,
    call_id     BIGINT  NOT NULL,
    event       TEXT    NOT NULL,
    "timestamp" DOUBLE PRECISION,
    event_id    BIGINT  NOT NULL,
    PRIMARY KEY (account, call_id, event_id)
);

-- Conversation-intelligence results: transcription, summary, topics, sentiment, action_item,
-- playbook_result, custom_summary, call_evaluation, realtime_transcription.
CREATE TABLE aircall_call_intelligence (
    account     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    result_id   TEXT    NOT NULL,
    call_id     BIGINT,
    event       TEXT    NOT NULL,
    "timestamp" DOUBLE PRECISION,
    data        {{json}}    NOT NULL,
    v_ts        DOUBLE PRECISION NOT NULL DEFAULT -1,
    v_rank      INTEGER NOT NULL DEFAULT -1,
    v_key       TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (account, kind, result_id)
);
CREATE INDEX aircall_call_intelligence_call ON aircall_call_intelligence (account, call_id);

-- Users (agents). Independent groups of columns, each with its own version:
--   profile (user.* snapshots), presence (user.connected/disconnected), wrap-up (user.wut_*),
--   seen (the latest event naming the user, calls included: last_seen and the name it carried).
-- current_call_id is not stored: it is read from aircall_calls (the agent's call not yet done).
CREATE TABLE aircall_users (
    account             TEXT    NOT NULL,
    id                  BIGINT  NOT NULL,
    name                TEXT,
    email               TEXT,
    available           BOOLEAN,
    availability_status TEXT,
    substatus           TEXT,
    time_zone           TEXT,
    language            TEXT,
    wrap_up_time        INTEGER,
    created_at          DOUBLE PRECISION,
    deleted             BOOLEAN NOT NULL DEFAULT FALSE,
    data                {{json}}  ,
    v_ts                DOUBLE PRECISION NOT NULL DEFAULT -1,
    v_rank              INTEGER NOT NULL DEFAULT -1,
    v_key               TEXT    NOT NULL DEFAULT '',
    connected           BOOLEAN,
    connected_ts        DOUBLE PRECISION NOT NULL DEFAULT -1,
    connected_rank      INTEGER NOT NULL DEFAULT -1,
    connected_key       TEXT    NOT NULL DEFAULT '',
    in_wrap_up          BOOLEAN,
    wrap_up_ts          DOUBLE PRECISION NOT NULL DEFAULT -1,
    wrap_up_rank        INTEGER NOT NULL DEFAULT -1,
    wrap_up_key         TEXT    NOT NULL DEFAULT '',
    last_seen           DOUBLE PRECISION NOT NULL DEFAULT -1,
    seen_name           TEXT,
    seen_email          TEXT,
    seen_rank           INTEGER NOT NULL DEFAULT -1,
    seen_key            TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (account, id)
);

CREATE TABLE aircall_contacts (
    account       TEXT    NOT NULL,
    id            BIGINT  NOT NULL,
    first_name    TEXT,
    last_name     TEXT,
    company_name  TEXT,
    description   TEXT,
    information   TEXT,
    is_shared     BOOLEAN,
    phone_numbers {{json}}  ,
    emails        {{json}}  ,
    created_at    DOUBLE PRECISION,
    updated_at    DOUBLE PRECISION,
    deleted       BOOLEAN NOT NULL DEFAULT FALSE,
    data          {{json}}    NOT NULL,
    v_ts          DOUBLE PRECISION NOT NULL DEFAULT -1,
    v_rank        INTEGER NOT NULL DEFAULT -1,
    v_key         TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (account, id)
);

CREATE TABLE aircall_numbers (
    account                  TEXT    NOT NULL,
    id                       BIGINT  NOT NULL,
    name                     TEXT,
    digits                   TEXT,
    e164_digits              TEXT,
    country                  TEXT,
    time_zone                TEXT,
    "open"                   BOOLEAN,
    availability_status      TEXT,
    is_ivr                   BOOLEAN,
    live_recording_activated BOOLEAN,
    priority                 INTEGER,
    users                    {{json}}  ,
    created_at               DOUBLE PRECISION,
    deleted                  BOOLEAN NOT NULL DEFAULT FALSE,
    data                     {{json}}    NOT NULL,
    v_ts                     DOUBLE PRECISION NOT NULL DEFAULT -1,
    v_rank                   INTEGER NOT NULL DEFAULT -1,
    v_key                    TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (account, id)
);

CREATE TABLE aircall_teams (
    account    TEXT    NOT NULL,
    id         BIGINT  NOT NULL,
    name       TEXT,
    users      {{json}}  ,
    created_at DOUBLE PRECISION,
    deleted    BOOLEAN NOT NULL DEFAULT FALSE,
    data       {{json}}    NOT NULL,
    v_ts       DOUBLE PRECISION NOT NULL DEFAULT -1,
    v_rank     INTEGER NOT NULL DEFAULT -1,
    v_key      TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (account, id)
);

-- Tags, from tag.synced and from the tags calls carry.
CREATE TABLE aircall_tags (
    account     TEXT    NOT NULL,
    id          BIGINT  NOT NULL,
    name        TEXT,
    color       TEXT,
    description TEXT,
    data        {{json}}    NOT NULL,
    v_ts        DOUBLE PRECISION NOT NULL DEFAULT -1,
    v_rank      INTEGER NOT NULL DEFAULT -1,
    v_key       TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (account, id)
);

-- SMS / MMS / WhatsApp messages (kind 'message') and group messages (kind 'group_message').
CREATE TABLE aircall_messages (
    account         TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    direction       TEXT,
    status          TEXT,
    channel         TEXT,
    body            TEXT,
    external_number TEXT,
    raw_digits      TEXT,
    number_id       BIGINT,
    contact_id      BIGINT,
    user_id         BIGINT,
    participants    {{json}}  ,
    media_details   {{json}}  ,
    created_at      DOUBLE PRECISION,
    sent_at         DOUBLE PRECISION,
    updated_at      DOUBLE PRECISION,
    last_event      TEXT    NOT NULL,
    data            {{json}}    NOT NULL,
    v_ts            DOUBLE PRECISION NOT NULL DEFAULT -1,
    v_rank          INTEGER NOT NULL DEFAULT -1,
    v_key           TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (account, id)
);
CREATE INDEX aircall_messages_created ON aircall_messages (created_at);
