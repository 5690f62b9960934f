-- Analytics over a year in a few thousand rows (issue 16): the day rollups summed per month, kept by
-- triggers on the day rollups themselves (0006, 0008), so they follow every write, rebuild and delete
-- the day rows follow. A period reads whole months here and only its partial months at the edges from
-- the day/hour rollups (dashboard/analytics.py). A month is counted from 1970-01: (year - 1970) * 12
-- + month - 1 of the UTC day; rows that fall to zero are deleted, as the day rows are.
--   aircall_call_days: calls per day (the per-day charts and the missed reasons), from aircall_call_hours.
--   aircall_call_hour_months: calls per hour of day and month (the per-hour chart), from aircall_call_hours.
--   aircall_call_agent_months: handle time per agent and month, from aircall_call_agent_days.
--   aircall_wrap_up_months: wrap-up pairs per agent, start month and end month, from aircall_wrap_up_days.

-- The month of a UTC day. A day outside the calendar (a value stored by an older version: issue 11's
-- out-of-range numbers) goes to one far-away bucket instead of failing the write; no period reads it.
CREATE FUNCTION aircall_month_of(day BIGINT) RETURNS BIGINT LANGUAGE SQL IMMUTABLE AS $$
    SELECT CASE WHEN day BETWEEN -719162 AND 2932896
        THEN (extract(year FROM date '1970-01-01' + day::integer)::bigint - 1970) * 12
             + extract(month FROM date '1970-01-01' + day::integer)::bigint - 1
        ELSE -99999999 END
$$;

CREATE TABLE aircall_call_days (
    day      BIGINT  NOT NULL,
    account  TEXT    NOT NULL,
    outbound INTEGER NOT NULL,
    missed   INTEGER NOT NULL,
    answered INTEGER NOT NULL,
    reason   TEXT    NOT NULL,
    calls    BIGINT  NOT NULL,
    PRIMARY KEY (day, account, outbound, missed, answered, reason)
);

CREATE TABLE aircall_call_hour_months (
    month    BIGINT  NOT NULL,
    hour     INTEGER NOT NULL,
    account  TEXT    NOT NULL,
    outbound INTEGER NOT NULL,
    missed   INTEGER NOT NULL,
    calls    BIGINT  NOT NULL,
    PRIMARY KEY (month, hour, account, outbound, missed)
);

CREATE TABLE aircall_call_agent_months (
    month   BIGINT NOT NULL,
    account TEXT   NOT NULL,
    user_id BIGINT NOT NULL,
    seconds BIGINT NOT NULL,
    calls   BIGINT NOT NULL,
    PRIMARY KEY (month, account, user_id)
);

CREATE TABLE aircall_wrap_up_months (
    start_month BIGINT           NOT NULL,
    end_month   BIGINT           NOT NULL,
    account     TEXT             NOT NULL,
    user_id     BIGINT           NOT NULL,
    seconds     DOUBLE PRECISION NOT NULL,
    pairs       BIGINT           NOT NULL,
    PRIMARY KEY (start_month, end_month, account, user_id)
);

-- A period's trailing partial month reads the pairs that end there (started there or in the months
-- before): by end day, the values in the index.
CREATE INDEX aircall_wrap_up_days_end ON aircall_wrap_up_days (end_day, start_day, account, user_id, seconds, pairs);

CREATE FUNCTION aircall_call_hours_months() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The upserts of the day rollups change values only: one upsert of the change (a row that falls
    -- to zero is deleted next by the day rollup's trigger, and its delete clears the months).
    IF TG_OP = 'UPDATE' AND OLD.hour = NEW.hour AND OLD.account = NEW.account AND OLD.outbound = NEW.outbound AND OLD.missed = NEW.missed AND OLD.answered = NEW.answered AND OLD.reason = NEW.reason THEN
    INSERT INTO aircall_call_days AS t (day, account, outbound, missed, answered, reason, calls)
    VALUES (NEW.hour / 24, NEW.account, NEW.outbound, NEW.missed, NEW.answered, NEW.reason, (NEW.calls - OLD.calls))
    ON CONFLICT (day, account, outbound, missed, answered, reason) DO UPDATE SET calls = t.calls + excluded.calls;
    INSERT INTO aircall_call_hour_months AS t (month, hour, account, outbound, missed, calls)
    VALUES (aircall_month_of(NEW.hour / 24), NEW.hour % 24, NEW.account, NEW.outbound, NEW.missed, (NEW.calls - OLD.calls))
    ON CONFLICT (month, hour, account, outbound, missed) DO UPDATE SET calls = t.calls + excluded.calls;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO aircall_call_days AS t (day, account, outbound, missed, answered, reason, calls)
    VALUES (OLD.hour / 24, OLD.account, OLD.outbound, OLD.missed, OLD.answered, OLD.reason, -OLD.calls)
    ON CONFLICT (day, account, outbound, missed, answered, reason) DO UPDATE SET calls = t.calls + excluded.calls;
    INSERT INTO aircall_call_hour_months AS t (month, hour, account, outbound, missed, calls)
    VALUES (aircall_month_of(OLD.hour / 24), OLD.hour % 24, OLD.account, OLD.outbound, OLD.missed, -OLD.calls)
    ON CONFLICT (month, hour, account, outbound, missed) DO UPDATE SET calls = t.calls + excluded.calls;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO aircall_call_days AS t (day, account, outbound, missed, answered, reason, calls)
    VALUES (NEW.hour / 24, NEW.account, NEW.outbound, NEW.missed, NEW.answered, NEW.reason, NEW.calls)
    ON CONFLICT (day, account, outbound, missed, answered, reason) DO UPDATE SET calls = t.calls + excluded.calls;
    INSERT INTO aircall_call_hour_months AS t (month, hour, account, outbound, missed, calls)
    VALUES (aircall_month_of(NEW.hour / 24), NEW.hour % 24, NEW.account, NEW.outbound, NEW.missed, NEW.calls)
    ON CONFLICT (month, hour, account, outbound, missed) DO UPDATE SET calls = t.calls + excluded.calls;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM aircall_call_days WHERE calls = 0 AND day = OLD.hour / 24 AND account = OLD.account;
    DELETE FROM aircall_call_hour_months WHERE calls = 0 AND month = aircall_month_of(OLD.hour / 24) AND account = OLD.account;
    END IF;
    IF TG_OP = 'UPDATE' THEN
    DELETE FROM aircall_call_days WHERE calls = 0 AND day = NEW.hour / 24 AND account = NEW.account;
    DELETE FROM aircall_call_hour_months WHERE calls = 0 AND month = aircall_month_of(NEW.hour / 24) AND account = NEW.account;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER aircall_call_hours_months AFTER INSERT OR UPDATE OR DELETE ON aircall_call_hours
    FOR EACH ROW EXECUTE FUNCTION aircall_call_hours_months();

CREATE FUNCTION aircall_call_agent_days_months() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The upserts of the day rollups change values only: one upsert of the change (a row that falls
    -- to zero is deleted next by the day rollup's trigger, and its delete clears the months).
    IF TG_OP = 'UPDATE' AND OLD.day = NEW.day AND OLD.account = NEW.account AND OLD.user_id = NEW.user_id THEN
    INSERT INTO aircall_call_agent_months AS t (month, account, user_id, seconds, calls)
    VALUES (aircall_month_of(NEW.day), NEW.account, NEW.user_id, (NEW.seconds - OLD.seconds), (NEW.calls - OLD.calls))
    ON CONFLICT (month, account, user_id) DO UPDATE SET seconds = t.seconds + excluded.seconds, calls = t.calls + excluded.calls;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO aircall_call_agent_months AS t (month, account, user_id, seconds, calls)
    VALUES (aircall_month_of(OLD.day), OLD.account, OLD.user_id, -OLD.seconds, -OLD.calls)
    ON CONFLICT (month, account, user_id) DO UPDATE SET seconds = t.seconds + excluded.seconds, calls = t.calls + excluded.calls;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO aircall_call_agent_months AS t (month, account, user_id, seconds, calls)
    VALUES (aircall_month_of(NEW.day), NEW.account, NEW.user_id, NEW.seconds, NEW.calls)
    ON CONFLICT (month, account, user_id) DO UPDATE SET seconds = t.seconds + excluded.seconds, calls = t.calls + excluded.calls;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM aircall_call_agent_months WHERE calls = 0 AND month = aircall_month_of(OLD.day) AND account = OLD.account;
    END IF;
    IF TG_OP = 'UPDATE' THEN
    DELETE FROM aircall_call_agent_months WHERE calls = 0 AND month = aircall_month_of(NEW.day) AND account = NEW.account;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER aircall_call_agent_days_months AFTER INSERT OR UPDATE OR DELETE ON aircall_call_agent_days
    FOR EACH ROW EXECUTE FUNCTION aircall_call_agent_days_months();

CREATE FUNCTION aircall_wrap_up_days_months() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The upserts of the day rollups change values only: one upsert of the change (a row that falls
    -- to zero is deleted next by the day rollup's trigger, and its delete clears the months).
    IF TG_OP = 'UPDATE' AND OLD.start_day = NEW.start_day AND OLD.end_day = NEW.end_day AND OLD.account = NEW.account AND OLD.user_id = NEW.user_id THEN
    INSERT INTO aircall_wrap_up_months AS t (start_month, end_month, account, user_id, seconds, pairs)
    VALUES (aircall_month_of(NEW.start_day), aircall_month_of(NEW.end_day), NEW.account, NEW.user_id, (NEW.seconds - OLD.seconds), (NEW.pairs - OLD.pairs))
    ON CONFLICT (start_month, end_month, account, user_id) DO UPDATE SET seconds = t.seconds + excluded.seconds, pairs = t.pairs + excluded.pairs;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO aircall_wrap_up_months AS t (start_month, end_month, account, user_id, seconds, pairs)
    VALUES (aircall_month_of(OLD.start_day), aircall_month_of(OLD.end_day), OLD.account, OLD.user_id, -OLD.seconds, -OLD.pairs)
    ON CONFLICT (start_month, end_month, account, user_id) DO UPDATE SET seconds = t.seconds + excluded.seconds, pairs = t.pairs + excluded.pairs;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO aircall_wrap_up_months AS t (start_month, end_month, account, user_id, seconds, pairs)
    VALUES (aircall_month_of(NEW.start_day), aircall_month_of(NEW.end_day), NEW.account, NEW.user_id, NEW.seconds, NEW.pairs)
    ON CONFLICT (start_month, end_month, account, user_id) DO UPDATE SET seconds = t.seconds + excluded.seconds, pairs = t.pairs + excluded.pairs;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM aircall_wrap_up_months WHERE pairs = 0 AND start_month = aircall_month_of(OLD.start_day) AND account = OLD.account AND user_id = OLD.user_id;
    END IF;
    IF TG_OP = 'UPDATE' THEN
    DELETE FROM aircall_wrap_up_months WHERE pairs = 0 AND start_month = aircall_month_of(NEW.start_day) AND account = NEW.account AND user_id = NEW.user_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER aircall_wrap_up_days_months AFTER INSERT OR UPDATE OR DELETE ON aircall_wrap_up_days
    FOR EACH ROW EXECUTE FUNCTION aircall_wrap_up_days_months();

-- The day rows already stored.
INSERT INTO aircall_call_days (day, account, outbound, missed, answered, reason, calls)
SELECT hour / 24, account, outbound, missed, answered, reason, sum(calls) FROM aircall_call_hours GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO aircall_call_hour_months (month, hour, account, outbound, missed, calls)
SELECT aircall_month_of(hour / 24), hour % 24, account, outbound, missed, sum(calls) FROM aircall_call_hours GROUP BY 1, 2, 3, 4, 5;
INSERT INTO aircall_call_agent_months (month, account, user_id, seconds, calls)
SELECT aircall_month_of(day), account, user_id, sum(seconds), sum(calls) FROM aircall_call_agent_days GROUP BY 1, 2, 3;
INSERT INTO aircall_wrap_up_months (start_month, end_month, account, user_id, seconds, pairs)
SELECT aircall_month_of(start_day), aircall_month_of(end_day), account, user_id, sum(seconds), sum(pairs) FROM aircall_wrap_up_days GROUP BY 1, 2, 3, 4;
