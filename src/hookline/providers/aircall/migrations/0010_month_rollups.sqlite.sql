-- Analytics over a year in a few thousand rows (issue 16): the day rollups summed per month, kept by
-- triggers on the day rollups themselves (0006, 0008), so they follow every write, rebuild and delete
-- the day rows follow. A period reads whole months here and only its partial months at the edges from
-- the day/hour rollups (dashboard/analytics.py). A month is counted from 1970-01: (year - 1970) * 12
-- + month - 1 of the UTC day; rows that fall to zero are deleted, as the day rows are.
--   aircall_call_days: calls per day (the per-day charts and the missed reasons), from aircall_call_hours.
--   aircall_call_hour_months: calls per hour of day and month (the per-hour chart), from aircall_call_hours.
--   aircall_call_agent_months: handle time per agent and month, from aircall_call_agent_days.
--   aircall_wrap_up_months: wrap-up pairs per agent, start month and end month, from aircall_wrap_up_days.

-- A day outside the calendar (a value stored by an older version: issue 11's out-of-range numbers) has
-- no month (strftime gives NULL): it goes to one far-away bucket instead of failing the write.
CREATE TABLE aircall_call_days (
    day      BIGINT  NOT NULL,
    account  TEXT    NOT NULL,
    outbound INTEGER NOT NULL,
    missed   INTEGER NOT NULL,
    answered INTEGER NOT NULL,
    reason   TEXT    NOT NULL,
    calls    BIGINT  NOT NULL,
    PRIMARY KEY (day, account, outbound, missed, answered, reason)
) WITHOUT ROWID;

CREATE TABLE aircall_call_hour_months (
    month    BIGINT  NOT NULL,
    hour     INTEGER NOT NULL,
    account  TEXT    NOT NULL,
    outbound INTEGER NOT NULL,
    missed   INTEGER NOT NULL,
    calls    BIGINT  NOT NULL,
    PRIMARY KEY (month, hour, account, outbound, missed)
) WITHOUT ROWID;

CREATE TABLE aircall_call_agent_months (
    month   BIGINT NOT NULL,
    account TEXT   NOT NULL,
    user_id BIGINT NOT NULL,
    seconds BIGINT NOT NULL,
    calls   BIGINT NOT NULL,
    PRIMARY KEY (month, account, user_id)
) WITHOUT ROWID;

CREATE TABLE aircall_wrap_up_months (
    start_month BIGINT           NOT NULL,
    end_month   BIGINT           NOT NULL,
    account     TEXT             NOT NULL,
    user_id     BIGINT           NOT NULL,
    seconds     DOUBLE PRECISION NOT NULL,
    pairs       BIGINT           NOT NULL,
    PRIMARY KEY (start_month, end_month, account, user_id)
) WITHOUT ROWID;

-- A period's trailing partial month reads the pairs that end there (started there or in the months
-- before): by end day, the values in the index.
CREATE INDEX aircall_wrap_up_days_end ON aircall_wrap_up_days (end_day, start_day, account, user_id, seconds, pairs);

CREATE TRIGGER aircall_call_hours_months_insert AFTER INSERT ON aircall_call_hours
BEGIN
    INSERT INTO aircall_call_days (day, account, outbound, missed, answered, reason, calls)
    VALUES (NEW.hour / 24, NEW.account, NEW.outbound, NEW.missed, NEW.answered, NEW.reason, NEW.calls)
    ON CONFLICT (day, account, outbound, missed, answered, reason) DO UPDATE SET calls = calls + excluded.calls;
    INSERT INTO aircall_call_hour_months (month, hour, account, outbound, missed, calls)
    VALUES (COALESCE((CAST(strftime('%Y', (NEW.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (NEW.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), NEW.hour % 24, NEW.account, NEW.outbound, NEW.missed, NEW.calls)
    ON CONFLICT (month, hour, account, outbound, missed) DO UPDATE SET calls = calls + excluded.calls;
END;

-- The upserts of the day rollups change values only: one upsert of the change. A row that falls to
-- zero is deleted next by the day rollup's trigger, and the delete trigger below clears the months.
CREATE TRIGGER aircall_call_hours_months_change AFTER UPDATE ON aircall_call_hours
WHEN OLD.hour = NEW.hour AND OLD.account = NEW.account AND OLD.outbound = NEW.outbound AND OLD.missed = NEW.missed AND OLD.answered = NEW.answered AND OLD.reason = NEW.reason
BEGIN
    INSERT INTO aircall_call_days (day, account, outbound, missed, answered, reason, calls)
    VALUES (NEW.hour / 24, NEW.account, NEW.outbound, NEW.missed, NEW.answered, NEW.reason, (NEW.calls - OLD.calls))
    ON CONFLICT (day, account, outbound, missed, answered, reason) DO UPDATE SET calls = calls + excluded.calls;
    INSERT INTO aircall_call_hour_months (month, hour, account, outbound, missed, calls)
    VALUES (COALESCE((CAST(strftime('%Y', (NEW.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (NEW.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), NEW.hour % 24, NEW.account, NEW.outbound, NEW.missed, (NEW.calls - OLD.calls))
    ON CONFLICT (month, hour, account, outbound, missed) DO UPDATE SET calls = calls + excluded.calls;
END;

CREATE TRIGGER aircall_call_hours_months_update AFTER UPDATE ON aircall_call_hours
WHEN NOT (OLD.hour = NEW.hour AND OLD.account = NEW.account AND OLD.outbound = NEW.outbound AND OLD.missed = NEW.missed AND OLD.answered = NEW.answered AND OLD.reason = NEW.reason)
BEGIN
    INSERT INTO aircall_call_days (day, account, outbound, missed, answered, reason, calls)
    VALUES (OLD.hour / 24, OLD.account, OLD.outbound, OLD.missed, OLD.answered, OLD.reason, -OLD.calls)
    ON CONFLICT (day, account, outbound, missed, answered, reason) DO UPDATE SET calls = calls + excluded.calls;
    INSERT INTO aircall_call_hour_months (month, hour, account, outbound, missed, calls)
    VALUES (COALESCE((CAST(strftime('%Y', (OLD.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (OLD.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), OLD.hour % 24, OLD.account, OLD.outbound, OLD.missed, -OLD.calls)
    ON CONFLICT (month, hour, account, outbound, missed) DO UPDATE SET calls = calls + excluded.calls;
    INSERT INTO aircall_call_days (day, account, outbound, missed, answered, reason, calls)
    VALUES (NEW.hour / 24, NEW.account, NEW.outbound, NEW.missed, NEW.answered, NEW.reason, NEW.calls)
    ON CONFLICT (day, account, outbound, missed, answered, reason) DO UPDATE SET calls = calls + excluded.calls;
    INSERT INTO aircall_call_hour_months (month, hour, account, outbound, missed, calls)
    VALUES (COALESCE((CAST(strftime('%Y', (NEW.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (NEW.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), NEW.hour % 24, NEW.account, NEW.outbound, NEW.missed, NEW.calls)
    ON CONFLICT (month, hour, account, outbound, missed) DO UPDATE SET calls = calls + excluded.calls;
    DELETE FROM aircall_call_days WHERE calls = 0 AND day = OLD.hour / 24 AND account = OLD.account;
    DELETE FROM aircall_call_hour_months WHERE calls = 0 AND month = COALESCE((CAST(strftime('%Y', (OLD.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (OLD.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999) AND account = OLD.account;
    DELETE FROM aircall_call_days WHERE calls = 0 AND day = NEW.hour / 24 AND account = NEW.account;
    DELETE FROM aircall_call_hour_months WHERE calls = 0 AND month = COALESCE((CAST(strftime('%Y', (NEW.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (NEW.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999) AND account = NEW.account;
END;

CREATE TRIGGER aircall_call_hours_months_delete AFTER DELETE ON aircall_call_hours
BEGIN
    INSERT INTO aircall_call_days (day, account, outbound, missed, answered, reason, calls)
    VALUES (OLD.hour / 24, OLD.account, OLD.outbound, OLD.missed, OLD.answered, OLD.reason, -OLD.calls)
    ON CONFLICT (day, account, outbound, missed, answered, reason) DO UPDATE SET calls = calls + excluded.calls;
    INSERT INTO aircall_call_hour_months (month, hour, account, outbound, missed, calls)
    VALUES (COALESCE((CAST(strftime('%Y', (OLD.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (OLD.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), OLD.hour % 24, OLD.account, OLD.outbound, OLD.missed, -OLD.calls)
    ON CONFLICT (month, hour, account, outbound, missed) DO UPDATE SET calls = calls + excluded.calls;
    DELETE FROM aircall_call_days WHERE calls = 0 AND day = OLD.hour / 24 AND account = OLD.account;
    DELETE FROM aircall_call_hour_months WHERE calls = 0 AND month = COALESCE((CAST(strftime('%Y', (OLD.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (OLD.hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999) AND account = OLD.account;
END;

CREATE TRIGGER aircall_call_agent_days_months_insert AFTER INSERT ON aircall_call_agent_days
BEGIN
    INSERT INTO aircall_call_agent_months (month, account, user_id, seconds, calls)
    VALUES (COALESCE((CAST(strftime('%Y', (NEW.day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (NEW.day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), NEW.account, NEW.user_id, NEW.seconds, NEW.calls)
    ON CONFLICT (month, account, user_id) DO UPDATE SET seconds = seconds + excluded.seconds, calls = calls + excluded.calls;
END;

-- The upserts of the day rollups change values only: one upsert of the change. A row that falls to
-- zero is deleted next by the day rollup's trigger, and the delete trigger below clears the months.
CREATE TRIGGER aircall_call_agent_days_months_change AFTER UPDATE ON aircall_call_agent_days
WHEN OLD.day = NEW.day AND OLD.account = NEW.account AND OLD.user_id = NEW.user_id
BEGIN
    INSERT INTO aircall_call_agent_months (month, account, user_id, seconds, calls)
    VALUES (COALESCE((CAST(strftime('%Y', (NEW.day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (NEW.day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), NEW.account, NEW.user_id, (NEW.seconds - OLD.seconds), (NEW.calls - OLD.calls))
    ON CONFLICT (month, account, user_id) DO UPDATE SET seconds = seconds + excluded.seconds, calls = calls + excluded.calls;
END;

CREATE TRIGGER aircall_call_agent_days_months_update AFTER UPDATE ON aircall_call_agent_days
WHEN NOT (OLD.day = NEW.day AND OLD.account = NEW.account AND OLD.user_id = NEW.user_id)
BEGIN
    INSERT INTO aircall_call_agent_months (month, account, user_id, seconds, calls)
    VALUES (COALESCE((CAST(strftime('%Y', (OLD.day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (OLD.day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), OLD.account, OLD.user_id, -OLD.seconds, -OLD.calls)
    ON CONFLICT (month, account, user_id) DO UPDATE SET seconds = seconds + excluded.seconds, calls = calls + excluded.calls;
    INSERT INTO aircall_call_agent_months (month, account, user_id, seconds, calls)
    VALUES (COALESCE((CAST(strftime('%Y', (NEW.day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (NEW.day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), NEW.account, NEW.user_id, NEW.seconds, NEW.calls)
    ON CONFLICT (month, account, user_id) DO UPDATE SET seconds = seconds + excluded.seconds, calls = calls + excluded.calls;
    DELETE FROM aircall_call_agent_months WHERE calls = 0 AND month = COALESCE((CAST(strftime('%Y', (OLD.day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (OLD.day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999) AND account = OLD.account;
    DELETE FROM aircall_call_agent_months WHERE calls = 0 AND month = COALESCE((CAST(strftime('%Y', (NEW.day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (NEW.day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999) AND account = NEW.account;
END;

CREATE TRIGGER aircall_call_agent_days_months_delete AFTER DELETE ON aircall_call_agent_days
BEGIN
    INSERT INTO aircall_call_agent_months (month, account, user_id, seconds, calls)
    VALUES (COALESCE((CAST(strftime('%Y', (OLD.day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (OLD.day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), OLD.account, OLD.user_id, -OLD.seconds, -OLD.calls)
    ON CONFLICT (month, account, user_id) DO UPDATE SET seconds = seconds + excluded.seconds, calls = calls + excluded.calls;
    DELETE FROM aircall_call_agent_months WHERE calls = 0 AND month = COALESCE((CAST(strftime('%Y', (OLD.day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (OLD.day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999) AND account = OLD.account;
END;

CREATE TRIGGER aircall_wrap_up_days_months_insert AFTER INSERT ON aircall_wrap_up_days
BEGIN
    INSERT INTO aircall_wrap_up_months (start_month, end_month, account, user_id, seconds, pairs)
    VALUES (COALESCE((CAST(strftime('%Y', (NEW.start_day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (NEW.start_day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), COALESCE((CAST(strftime('%Y', (NEW.end_day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (NEW.end_day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), NEW.account, NEW.user_id, NEW.seconds, NEW.pairs)
    ON CONFLICT (start_month, end_month, account, user_id) DO UPDATE SET seconds = seconds + excluded.seconds, pairs = pairs + excluded.pairs;
END;

-- The upserts of the day rollups change values only: one upsert of the change. A row that falls to
-- zero is deleted next by the day rollup's trigger, and the delete trigger below clears the months.
CREATE TRIGGER aircall_wrap_up_days_months_change AFTER UPDATE ON aircall_wrap_up_days
WHEN OLD.start_day = NEW.start_day AND OLD.end_day = NEW.end_day AND OLD.account = NEW.account AND OLD.user_id = NEW.user_id
BEGIN
    INSERT INTO aircall_wrap_up_months (start_month, end_month, account, user_id, seconds, pairs)
    VALUES (COALESCE((CAST(strftime('%Y', (NEW.start_day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (NEW.start_day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), COALESCE((CAST(strftime('%Y', (NEW.end_day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (NEW.end_day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), NEW.account, NEW.user_id, (NEW.seconds - OLD.seconds), (NEW.pairs - OLD.pairs))
    ON CONFLICT (start_month, end_month, account, user_id) DO UPDATE SET seconds = seconds + excluded.seconds, pairs = pairs + excluded.pairs;
END;

CREATE TRIGGER aircall_wrap_up_days_months_update AFTER UPDATE ON aircall_wrap_up_days
WHEN NOT (OLD.start_day = NEW.start_day AND OLD.end_day = NEW.end_day AND OLD.account = NEW.account AND OLD.user_id = NEW.user_id)
BEGIN
    INSERT INTO aircall_wrap_up_months (start_month, end_month, account, user_id, seconds, pairs)
    VALUES (COALESCE((CAST(strftime('%Y', (OLD.start_day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (OLD.start_day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), COALESCE((CAST(strftime('%Y', (OLD.end_day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (OLD.end_day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), OLD.account, OLD.user_id, -OLD.seconds, -OLD.pairs)
    ON CONFLICT (start_month, end_month, account, user_id) DO UPDATE SET seconds = seconds + excluded.seconds, pairs = pairs + excluded.pairs;
    INSERT INTO aircall_wrap_up_months (start_month, end_month, account, user_id, seconds, pairs)
    VALUES (COALESCE((CAST(strftime('%Y', (NEW.start_day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (NEW.start_day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), COALESCE((CAST(strftime('%Y', (NEW.end_day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (NEW.end_day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), NEW.account, NEW.user_id, NEW.seconds, NEW.pairs)
    ON CONFLICT (start_month, end_month, account, user_id) DO UPDATE SET seconds = seconds + excluded.seconds, pairs = pairs + excluded.pairs;
    DELETE FROM aircall_wrap_up_months WHERE pairs = 0 AND start_month = COALESCE((CAST(strftime('%Y', (OLD.start_day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (OLD.start_day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999) AND account = OLD.account AND user_id = OLD.user_id;
    DELETE FROM aircall_wrap_up_months WHERE pairs = 0 AND start_month = COALESCE((CAST(strftime('%Y', (NEW.start_day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (NEW.start_day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999) AND account = NEW.account AND user_id = NEW.user_id;
END;

CREATE TRIGGER aircall_wrap_up_days_months_delete AFTER DELETE ON aircall_wrap_up_days
BEGIN
    INSERT INTO aircall_wrap_up_months (start_month, end_month, account, user_id, seconds, pairs)
    VALUES (COALESCE((CAST(strftime('%Y', (OLD.start_day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (OLD.start_day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), COALESCE((CAST(strftime('%Y', (OLD.end_day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (OLD.end_day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), OLD.account, OLD.user_id, -OLD.seconds, -OLD.pairs)
    ON CONFLICT (start_month, end_month, account, user_id) DO UPDATE SET seconds = seconds + excluded.seconds, pairs = pairs + excluded.pairs;
    DELETE FROM aircall_wrap_up_months WHERE pairs = 0 AND start_month = COALESCE((CAST(strftime('%Y', (OLD.start_day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (OLD.start_day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999) AND account = OLD.account AND user_id = OLD.user_id;
END;

-- The day rows already stored.
INSERT INTO aircall_call_days (day, account, outbound, missed, answered, reason, calls)
SELECT hour / 24, account, outbound, missed, answered, reason, sum(calls) FROM aircall_call_hours GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO aircall_call_hour_months (month, hour, account, outbound, missed, calls)
SELECT COALESCE((CAST(strftime('%Y', (hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (hour / 24) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), hour % 24, account, outbound, missed, sum(calls) FROM aircall_call_hours GROUP BY 1, 2, 3, 4, 5;
INSERT INTO aircall_call_agent_months (month, account, user_id, seconds, calls)
SELECT COALESCE((CAST(strftime('%Y', (day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), account, user_id, sum(seconds), sum(calls) FROM aircall_call_agent_days GROUP BY 1, 2, 3;
INSERT INTO aircall_wrap_up_months (start_month, end_month, account, user_id, seconds, pairs)
SELECT COALESCE((CAST(strftime('%Y', (start_day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (start_day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), COALESCE((CAST(strftime('%Y', (end_day) * 86400, 'unixepoch') AS INTEGER) - 1970) * 12 + CAST(strftime('%m', (end_day) * 86400, 'unixepoch') AS INTEGER) - 1, -99999999), account, user_id, sum(seconds), sum(pairs) FROM aircall_wrap_up_days GROUP BY 1, 2, 3, 4;
