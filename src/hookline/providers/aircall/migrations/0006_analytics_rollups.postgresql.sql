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

CREATE FUNCTION aircall_calls_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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

CREATE TRIGGER aircall_calls_rollup_insert AFTER INSERT OR DELETE ON aircall_calls
    FOR EACH ROW EXECUTE FUNCTION aircall_calls_rollup();
CREATE TRIGGER aircall_calls_rollup_update AFTER UPDATE ON aircall_calls
    FOR EACH ROW WHEN (OLD.account IS DISTINCT FROM NEW.account OR OLD.started_at IS DISTINCT FROM NEW.started_at OR OLD.direction IS DISTINCT FROM NEW.direction OR OLD.status IS DISTINCT FROM NEW.status OR OLD.answered_at IS DISTINCT FROM NEW.answered_at OR OLD.missed_call_reason IS DISTINCT FROM NEW.missed_call_reason OR OLD.duration IS DISTINCT FROM NEW.duration OR OLD.user_id IS DISTINCT FROM NEW.user_id) EXECUTE FUNCTION aircall_calls_rollup();

-- The calls already stored.
INSERT INTO aircall_call_hours (hour, account, outbound, missed, answered, reason, calls)
SELECT floor(c.started_at / 3600)::bigint, c.account, CASE WHEN c.direction = 'outbound' THEN 1 ELSE 0 END, CASE WHEN (c.missed_call_reason IS NOT NULL OR (c.status = 'done' AND c.answered_at IS NULL AND c.direction = 'inbound')) THEN 1 ELSE 0 END, CASE WHEN c.answered_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN (c.missed_call_reason IS NOT NULL OR (c.status = 'done' AND c.answered_at IS NULL AND c.direction = 'inbound')) THEN COALESCE(c.missed_call_reason, 'no_answer') ELSE '' END, count(*)
FROM aircall_calls c WHERE c.started_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO aircall_call_agent_days (day, account, user_id, seconds, calls)
SELECT floor(c.started_at / 86400)::bigint, c.account, c.user_id, sum(COALESCE(c.duration, 0)), count(*)
FROM aircall_calls c WHERE c.started_at IS NOT NULL AND (c.status = 'done' AND c.answered_at IS NOT NULL AND c.user_id IS NOT NULL) GROUP BY 1, 2, 3;
