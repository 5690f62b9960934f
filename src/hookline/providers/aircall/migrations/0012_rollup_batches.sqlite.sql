-- The rollups of 0006 in batches (issue 13): a worker's batch writes hundreds of calls, and 0006's
-- triggers ran two to six upserts per call, each followed by the day and month rollups' own (0010):
-- most of the worker's time. The projection now writes a batch's calls in batched mode
-- (aircall_call_rollup_mode.batched = 1, set and reset inside its transaction, so no other connection
-- ever sees it set): each change of a call then appends its old contribution (-1) and its new one (+1)
-- to aircall_call_rollup_changes, and the projection's flush (queries.sql, rollups_batch_*) adds them
-- up, one upsert per rollup and batch, deletes the rows that fell to zero and empties the journal. The
-- same arithmetic as 0006, summed first; every other writer (retention's deletes, an operator's UPDATE)
-- still goes through 0006's triggers, row by row.
CREATE TABLE aircall_call_rollup_mode (batched INTEGER NOT NULL);
INSERT INTO aircall_call_rollup_mode (batched) VALUES (0);

-- One call's contribution to the hour rollup and, with user_id set, to its agent's day.
CREATE TABLE aircall_call_rollup_changes (
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

-- 0006's triggers, now only outside batched mode.
DROP TRIGGER aircall_calls_rollup_insert;
CREATE TRIGGER aircall_calls_rollup_insert AFTER INSERT ON aircall_calls
WHEN NOT EXISTS (SELECT 1 FROM aircall_call_rollup_mode WHERE batched = 1)
BEGIN
    INSERT INTO aircall_call_hours (hour, account, outbound, missed, answered, reason, calls)
    SELECT CAST(NEW.started_at / 3600 AS INTEGER), NEW.account, CASE WHEN NEW.direction = 'outbound' THEN 1 ELSE 0 END, CASE WHEN (NEW.missed_call_reason IS NOT NULL OR (NEW.status = 'done' AND NEW.answered_at IS NULL AND NEW.direction = 'inbound')) THEN 1 ELSE 0 END, CASE WHEN NEW.answered_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN (NEW.missed_call_reason IS NOT NULL OR (NEW.status = 'done' AND NEW.answered_at IS NULL AND NEW.direction = 'inbound')) THEN COALESCE(NEW.missed_call_reason, 'no_answer') ELSE '' END, 1
    WHERE NEW.started_at IS NOT NULL
    ON CONFLICT (hour, account, outbound, missed, answered, reason) DO UPDATE SET calls = calls + excluded.calls;
    INSERT INTO aircall_call_agent_days (day, account, user_id, seconds, calls)
    SELECT CAST(NEW.started_at / 86400 AS INTEGER), NEW.account, NEW.user_id, COALESCE(NEW.duration, 0), 1
    WHERE NEW.started_at IS NOT NULL AND (NEW.status = 'done' AND NEW.answered_at IS NOT NULL AND NEW.user_id IS NOT NULL)
    ON CONFLICT (day, account, user_id) DO UPDATE
    SET seconds = seconds + excluded.seconds, calls = calls + excluded.calls;
END;

DROP TRIGGER aircall_calls_rollup_update;
CREATE TRIGGER aircall_calls_rollup_update AFTER UPDATE ON aircall_calls
WHEN (OLD.account IS NOT NEW.account OR OLD.started_at IS NOT NEW.started_at OR OLD.direction IS NOT NEW.direction OR OLD.status IS NOT NEW.status OR OLD.answered_at IS NOT NEW.answered_at OR OLD.missed_call_reason IS NOT NEW.missed_call_reason OR OLD.duration IS NOT NEW.duration OR OLD.user_id IS NOT NEW.user_id) AND NOT EXISTS (SELECT 1 FROM aircall_call_rollup_mode WHERE batched = 1)
BEGIN
    INSERT INTO aircall_call_hours (hour, account, outbound, missed, answered, reason, calls)
    SELECT CAST(OLD.started_at / 3600 AS INTEGER), OLD.account, CASE WHEN OLD.direction = 'outbound' THEN 1 ELSE 0 END, CASE WHEN (OLD.missed_call_reason IS NOT NULL OR (OLD.status = 'done' AND OLD.answered_at IS NULL AND OLD.direction = 'inbound')) THEN 1 ELSE 0 END, CASE WHEN OLD.answered_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN (OLD.missed_call_reason IS NOT NULL OR (OLD.status = 'done' AND OLD.answered_at IS NULL AND OLD.direction = 'inbound')) THEN COALESCE(OLD.missed_call_reason, 'no_answer') ELSE '' END, -1
    WHERE OLD.started_at IS NOT NULL
    ON CONFLICT (hour, account, outbound, missed, answered, reason) DO UPDATE SET calls = calls + excluded.calls;
    INSERT INTO aircall_call_agent_days (day, account, user_id, seconds, calls)
    SELECT CAST(OLD.started_at / 86400 AS INTEGER), OLD.account, OLD.user_id, -COALESCE(OLD.duration, 0), -1
    WHERE OLD.started_at IS NOT NULL AND (OLD.status = 'done' AND OLD.answered_at IS NOT NULL AND OLD.user_id IS NOT NULL)
    ON CONFLICT (day, account, user_id) DO UPDATE
    SET seconds = seconds + excluded.seconds, calls = calls + excluded.calls;
    DELETE FROM aircall_call_hours WHERE calls = 0 AND hour = CAST(OLD.started_at / 3600 AS INTEGER) AND account = OLD.account;
    DELETE FROM aircall_call_agent_days WHERE calls = 0 AND day = CAST(OLD.started_at / 86400 AS INTEGER) AND account = OLD.account;
    INSERT INTO aircall_call_hours (hour, account, outbound, missed, answered, reason, calls)
    SELECT CAST(NEW.started_at / 3600 AS INTEGER), NEW.account, CASE WHEN NEW.direction = 'outbound' THEN 1 ELSE 0 END, CASE WHEN (NEW.missed_call_reason IS NOT NULL OR (NEW.status = 'done' AND NEW.answered_at IS NULL AND NEW.direction = 'inbound')) THEN 1 ELSE 0 END, CASE WHEN NEW.answered_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN (NEW.missed_call_reason IS NOT NULL OR (NEW.status = 'done' AND NEW.answered_at IS NULL AND NEW.direction = 'inbound')) THEN COALESCE(NEW.missed_call_reason, 'no_answer') ELSE '' END, 1
    WHERE NEW.started_at IS NOT NULL
    ON CONFLICT (hour, account, outbound, missed, answered, reason) DO UPDATE SET calls = calls + excluded.calls;
    INSERT INTO aircall_call_agent_days (day, account, user_id, seconds, calls)
    SELECT CAST(NEW.started_at / 86400 AS INTEGER), NEW.account, NEW.user_id, COALESCE(NEW.duration, 0), 1
    WHERE NEW.started_at IS NOT NULL AND (NEW.status = 'done' AND NEW.answered_at IS NOT NULL AND NEW.user_id IS NOT NULL)
    ON CONFLICT (day, account, user_id) DO UPDATE
    SET seconds = seconds + excluded.seconds, calls = calls + excluded.calls;
END;

CREATE TRIGGER aircall_calls_rollup_insert_batched AFTER INSERT ON aircall_calls
WHEN NEW.started_at IS NOT NULL AND EXISTS (SELECT 1 FROM aircall_call_rollup_mode WHERE batched = 1)
BEGIN
    INSERT INTO aircall_call_rollup_changes (hour, day, account, outbound, missed, answered, reason, user_id, seconds, sign)
        SELECT CAST(NEW.started_at / 3600 AS INTEGER), CAST(NEW.started_at / 86400 AS INTEGER), NEW.account, CASE WHEN NEW.direction = 'outbound' THEN 1 ELSE 0 END, CASE WHEN (NEW.missed_call_reason IS NOT NULL OR (NEW.status = 'done' AND NEW.answered_at IS NULL AND NEW.direction = 'inbound')) THEN 1 ELSE 0 END, CASE WHEN NEW.answered_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN (NEW.missed_call_reason IS NOT NULL OR (NEW.status = 'done' AND NEW.answered_at IS NULL AND NEW.direction = 'inbound')) THEN COALESCE(NEW.missed_call_reason, 'no_answer') ELSE '' END, CASE WHEN NEW.status = 'done' AND NEW.answered_at IS NOT NULL AND NEW.user_id IS NOT NULL THEN NEW.user_id END, COALESCE(NEW.duration, 0), 1 WHERE NEW.started_at IS NOT NULL;
END;

CREATE TRIGGER aircall_calls_rollup_update_batched AFTER UPDATE ON aircall_calls
WHEN (OLD.account IS NOT NEW.account OR OLD.started_at IS NOT NEW.started_at OR OLD.direction IS NOT NEW.direction OR OLD.status IS NOT NEW.status OR OLD.answered_at IS NOT NEW.answered_at OR OLD.missed_call_reason IS NOT NEW.missed_call_reason OR OLD.duration IS NOT NEW.duration OR OLD.user_id IS NOT NEW.user_id) AND EXISTS (SELECT 1 FROM aircall_call_rollup_mode WHERE batched = 1)
BEGIN
    INSERT INTO aircall_call_rollup_changes (hour, day, account, outbound, missed, answered, reason, user_id, seconds, sign)
        SELECT CAST(OLD.started_at / 3600 AS INTEGER), CAST(OLD.started_at / 86400 AS INTEGER), OLD.account, CASE WHEN OLD.direction = 'outbound' THEN 1 ELSE 0 END, CASE WHEN (OLD.missed_call_reason IS NOT NULL OR (OLD.status = 'done' AND OLD.answered_at IS NULL AND OLD.direction = 'inbound')) THEN 1 ELSE 0 END, CASE WHEN OLD.answered_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN (OLD.missed_call_reason IS NOT NULL OR (OLD.status = 'done' AND OLD.answered_at IS NULL AND OLD.direction = 'inbound')) THEN COALESCE(OLD.missed_call_reason, 'no_answer') ELSE '' END, CASE WHEN OLD.status = 'done' AND OLD.answered_at IS NOT NULL AND OLD.user_id IS NOT NULL THEN OLD.user_id END, COALESCE(OLD.duration, 0), -1 WHERE OLD.started_at IS NOT NULL;
    INSERT INTO aircall_call_rollup_changes (hour, day, account, outbound, missed, answered, reason, user_id, seconds, sign)
        SELECT CAST(NEW.started_at / 3600 AS INTEGER), CAST(NEW.started_at / 86400 AS INTEGER), NEW.account, CASE WHEN NEW.direction = 'outbound' THEN 1 ELSE 0 END, CASE WHEN (NEW.missed_call_reason IS NOT NULL OR (NEW.status = 'done' AND NEW.answered_at IS NULL AND NEW.direction = 'inbound')) THEN 1 ELSE 0 END, CASE WHEN NEW.answered_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN (NEW.missed_call_reason IS NOT NULL OR (NEW.status = 'done' AND NEW.answered_at IS NULL AND NEW.direction = 'inbound')) THEN COALESCE(NEW.missed_call_reason, 'no_answer') ELSE '' END, CASE WHEN NEW.status = 'done' AND NEW.answered_at IS NOT NULL AND NEW.user_id IS NOT NULL THEN NEW.user_id END, COALESCE(NEW.duration, 0), 1 WHERE NEW.started_at IS NOT NULL;
END;
