-- Analytics over a year in milliseconds (issue 16): what the report counts, kept up to date by
-- triggers on aircall_calls, so that a period reads a few rows per hour instead of every call.
-- A pure function of aircall_calls (each change subtracts the row's old contribution and adds its new
-- one, rows that fall to zero are deleted), so it is as order-independent as the calls themselves.
-- Hours and days are UTC, counted from the epoch: floor(started_at / 3600), floor(started_at / 86400).

-- Calls per hour: direction (outbound or not), missed (MISSED of projections_api.py), answered, and
-- the missed reason ('' when not missed, 'no_answer' when missed without one).
CREATE TABLE aircall_call_hours (
    hour     BIGINT  NOT NULL,
    account  TEXT    NOT NULL,
    outbound INTEGER NOT NULL,
    missed   INTEGER NOT NULL,
    answered INTEGER NOT NULL,
    reason   TEXT    NOT NULL,
    calls    BIGINT  NOT NULL,
    PRIMARY KEY (hour, account, outbound, missed, answered, reason)
);

-- Handle time per agent and day: calls done, answered, with an agent.
CREATE TABLE aircall_call_agent_days (
    day     BIGINT NOT NULL,
    account TEXT   NOT NULL,
    user_id BIGINT NOT NULL,
    seconds BIGINT NOT NULL,
    calls   BIGINT NOT NULL,
    PRIMARY KEY (day, account, user_id)
);

CREATE TRIGGER aircall_calls_rollup_insert AFTER INSERT ON aircall_calls
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

CREATE TRIGGER aircall_calls_rollup_update AFTER UPDATE ON aircall_calls
WHEN OLD.account IS NOT NEW.account OR OLD.started_at IS NOT NEW.started_at OR OLD.direction IS NOT NEW.direction OR OLD.status IS NOT NEW.status OR OLD.answered_at IS NOT NEW.answered_at OR OLD.missed_call_reason IS NOT NEW.missed_call_reason OR OLD.duration IS NOT NEW.duration OR OLD.user_id IS NOT NEW.user_id
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

CREATE TRIGGER aircall_calls_rollup_delete AFTER DELETE ON aircall_calls
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
END;

-- The calls already stored.
INSERT INTO aircall_call_hours (hour, account, outbound, missed, answered, reason, calls)
SELECT CAST(c.started_at / 3600 AS INTEGER), c.account, CASE WHEN c.direction = 'outbound' THEN 1 ELSE 0 END, CASE WHEN (c.missed_call_reason IS NOT NULL OR (c.status = 'done' AND c.answered_at IS NULL AND c.direction = 'inbound')) THEN 1 ELSE 0 END, CASE WHEN c.answered_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN (c.missed_call_reason IS NOT NULL OR (c.status = 'done' AND c.answered_at IS NULL AND c.direction = 'inbound')) THEN COALESCE(c.missed_call_reason, 'no_answer') ELSE '' END, count(*)
FROM aircall_calls c WHERE c.started_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO aircall_call_agent_days (day, account, user_id, seconds, calls)
SELECT CAST(c.started_at / 86400 AS INTEGER), c.account, c.user_id, sum(COALESCE(c.duration, 0)), count(*)
FROM aircall_calls c WHERE c.started_at IS NOT NULL AND (c.status = 'done' AND c.answered_at IS NOT NULL AND c.user_id IS NOT NULL) GROUP BY 1, 2, 3;
