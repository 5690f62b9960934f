-- The rollups of 0006 in batches (issue 13): a worker's batch writes hundreds of calls, and 0006's
-- trigger ran two to six upserts per call, each followed by the day and month rollups' own (0010):
-- most of the worker's time. The projection now writes a batch's calls in batched mode (the setting
-- hookline.aircall_rollups = 'batched', local to its transaction): each change of a call then appends
-- its old contribution (-1) and its new one (+1) to aircall_call_rollup_changes, and the projection's
-- flush (queries.postgresql.sql, rollups_batch_*) adds them up, one upsert per rollup and batch in key
-- order, deletes the rows that fell to zero and empties the journal. A transaction sees only its own
-- uncommitted journal rows, and it commits none, so concurrent workers each flush their own. The same
-- arithmetic as 0006, summed first; every other writer still goes through 0006's arithmetic row by row.

-- Always empty between transactions: not worth the WAL.
CREATE UNLOGGED TABLE aircall_call_rollup_changes (
    hour     BIGINT  NOT NULL,
    day      BIGINT  NOT NULL,
    account  TEXT    NOT NULL,
    outbound INTEGER NOT NULL,
    missed   INTEGER NOT NULL,
    answered INTEGER NOT NULL,
    reason   TEXT    NOT NULL,
    user_id  BIGINT,
    seconds  BIGINT  NOT NULL,
    sign     INTEGER NOT NULL
);

-- SQLite's switch is this table (it has no settings of its own); here it only keeps the schemas alike.
CREATE TABLE aircall_call_rollup_mode (batched INTEGER NOT NULL);
INSERT INTO aircall_call_rollup_mode (batched) VALUES (0);

CREATE OR REPLACE FUNCTION aircall_calls_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('hookline.aircall_rollups', true) = 'batched' THEN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO aircall_call_rollup_changes (hour, day, account, outbound, missed, answered, reason, user_id, seconds, sign)
            SELECT floor(OLD.started_at / 3600)::bigint, floor(OLD.started_at / 86400)::bigint, OLD.account, CASE WHEN OLD.direction = 'outbound' THEN 1 ELSE 0 END, CASE WHEN (OLD.missed_call_reason IS NOT NULL OR (OLD.status = 'done' AND OLD.answered_at IS NULL AND OLD.direction = 'inbound')) THEN 1 ELSE 0 END, CASE WHEN OLD.answered_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN (OLD.missed_call_reason IS NOT NULL OR (OLD.status = 'done' AND OLD.answered_at IS NULL AND OLD.direction = 'inbound')) THEN COALESCE(OLD.missed_call_reason, 'no_answer') ELSE '' END, CASE WHEN OLD.status = 'done' AND OLD.answered_at IS NOT NULL AND OLD.user_id IS NOT NULL THEN OLD.user_id END, COALESCE(OLD.duration, 0), -1 WHERE OLD.started_at IS NOT NULL;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO aircall_call_rollup_changes (hour, day, account, outbound, missed, answered, reason, user_id, seconds, sign)
            SELECT floor(NEW.started_at / 3600)::bigint, floor(NEW.started_at / 86400)::bigint, NEW.account, CASE WHEN NEW.direction = 'outbound' THEN 1 ELSE 0 END, CASE WHEN (NEW.missed_call_reason IS NOT NULL OR (NEW.status = 'done' AND NEW.answered_at IS NULL AND NEW.direction = 'inbound')) THEN 1 ELSE 0 END, CASE WHEN NEW.answered_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN (NEW.missed_call_reason IS NOT NULL OR (NEW.status = 'done' AND NEW.answered_at IS NULL AND NEW.direction = 'inbound')) THEN COALESCE(NEW.missed_call_reason, 'no_answer') ELSE '' END, CASE WHEN NEW.status = 'done' AND NEW.answered_at IS NOT NULL AND NEW.user_id IS NOT NULL THEN NEW.user_id END, COALESCE(NEW.duration, 0), 1 WHERE NEW.started_at IS NOT NULL;
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO aircall_call_hours AS h (hour, account, outbound, missed, answered, reason, calls)
        SELECT floor(OLD.started_at / 3600)::bigint, OLD.account, CASE WHEN OLD.direction = 'outbound' THEN 1 ELSE 0 END, CASE WHEN (OLD.missed_call_reason IS NOT NULL OR (OLD.status = 'done' AND OLD.answered_at IS NULL AND OLD.direction = 'inbound')) THEN 1 ELSE 0 END, CASE WHEN OLD.answered_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN (OLD.missed_call_reason IS NOT NULL OR (OLD.status = 'done' AND OLD.answered_at IS NULL AND OLD.direction = 'inbound')) THEN COALESCE(OLD.missed_call_reason, 'no_answer') ELSE '' END, -1
        WHERE OLD.started_at IS NOT NULL
        ON CONFLICT (hour, account, outbound, missed, answered, reason) DO UPDATE SET calls = h.calls + excluded.calls;
        INSERT INTO aircall_call_agent_days AS d (day, account, user_id, seconds, calls)
        SELECT floor(OLD.started_at / 86400)::bigint, OLD.account, OLD.user_id, -COALESCE(OLD.duration, 0), -1
        WHERE OLD.started_at IS NOT NULL AND (OLD.status = 'done' AND OLD.answered_at IS NOT NULL AND OLD.user_id IS NOT NULL)
        ON CONFLICT (day, account, user_id) DO UPDATE SET seconds = d.seconds + excluded.seconds, calls = d.calls + excluded.calls;
        DELETE FROM aircall_call_hours WHERE calls = 0 AND hour = floor(OLD.started_at / 3600)::bigint AND account = OLD.account;
        DELETE FROM aircall_call_agent_days WHERE calls = 0 AND day = floor(OLD.started_at / 86400)::bigint AND account = OLD.account;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO aircall_call_hours AS h (hour, account, outbound, missed, answered, reason, calls)
        SELECT floor(NEW.started_at / 3600)::bigint, NEW.account, CASE WHEN NEW.direction = 'outbound' THEN 1 ELSE 0 END, CASE WHEN (NEW.missed_call_reason IS NOT NULL OR (NEW.status = 'done' AND NEW.answered_at IS NULL AND NEW.direction = 'inbound')) THEN 1 ELSE 0 END, CASE WHEN NEW.answered_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN (NEW.missed_call_reason IS NOT NULL OR (NEW.status = 'done' AND NEW.answered_at IS NULL AND NEW.direction = 'inbound')) THEN COALESCE(NEW.missed_call_reason, 'no_answer') ELSE '' END, 1
        WHERE NEW.started_at IS NOT NULL
        ON CONFLICT (hour, account, outbound, missed, answered, reason) DO UPDATE SET calls = h.calls + excluded.calls;
        INSERT INTO aircall_call_agent_days AS d (day, account, user_id, seconds, calls)
        SELECT floor(NEW.started_at / 86400)::bigint, NEW.account, NEW.user_id, COALESCE(NEW.duration, 0), 1
        WHERE NEW.started_at IS NOT NULL AND (NEW.status = 'done' AND NEW.answered_at IS NOT NULL AND NEW.user_id IS NOT NULL)
        ON CONFLICT (day, account, user_id) DO UPDATE SET seconds = d.seconds + excluded.seconds, calls = d.calls + excluded.calls;
    END IF;
    RETURN NULL;
END
$$;
