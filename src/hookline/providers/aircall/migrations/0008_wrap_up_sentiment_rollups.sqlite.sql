-- Analytics over a year, per event (issue 16): wrap-up durations and sentiment shares, kept by the
-- writes so that a period reads a few rows per agent and day instead of every event of the period.
-- Days are UTC, counted from the epoch: floor(t / 86400). One file per engine: triggers.

-- Every wrap-up event of an agent (user.wut_start / user.wut_end, .v2 or not) in the log's order,
-- (occurred_at, event id), written by the projection (wrap_ups.py; only inserted, and emptied by `rebuild`). Only agents' ids
-- that are numbers (what the report can name). `start`: 1 for a start, 0 for an end.
CREATE TABLE aircall_wrap_up_events (
    account     TEXT             NOT NULL,
    resource_id TEXT             NOT NULL,
    occurred_at DOUBLE PRECISION NOT NULL,
    event_id    BIGINT           NOT NULL,
    start       INTEGER          NOT NULL,
    PRIMARY KEY (account, resource_id, occurred_at, event_id)
);

-- The pairs of those events (an end whose previous event is a start) summed by the days of the
-- start and of the end: a period counts a pair when both fall inside it, as the pairing read from
-- the log did. Kept by a trigger on aircall_wrap_up_events (below).
-- WITHOUT ROWID (SQLite): a period is a range of the key, read in key order with its values, not
-- a lookup into the table per row (110k rows a year at 300 agents).
CREATE TABLE aircall_wrap_up_days (
    start_day BIGINT           NOT NULL,
    end_day   BIGINT           NOT NULL,
    account   TEXT             NOT NULL,
    user_id   BIGINT           NOT NULL,
    seconds   DOUBLE PRECISION NOT NULL,
    pairs     BIGINT           NOT NULL,
    PRIMARY KEY (start_day, end_day, account, user_id)
) WITHOUT ROWID;

-- Callers' moods per day: each participant's `value` of the sentiment results (the three the report
-- shows), kept by triggers on aircall_call_intelligence: each change subtracts the row's old
-- contribution and adds its new one, so a re-delivered or updated result never counts twice.
CREATE TABLE aircall_sentiment_days (
    day          BIGINT NOT NULL,
    account      TEXT   NOT NULL,
    sentiment    TEXT   NOT NULL,
    participants BIGINT NOT NULL,
    PRIMARY KEY (day, account, sentiment)
) WITHOUT ROWID;

CREATE TRIGGER aircall_intelligence_sentiment_insert AFTER INSERT ON aircall_call_intelligence
WHEN NEW.kind = 'sentiment' AND NEW."timestamp" IS NOT NULL
BEGIN
    INSERT INTO aircall_sentiment_days (day, account, sentiment, participants)
    SELECT CAST(NEW."timestamp" / 86400 AS INTEGER), NEW.account, upper(json_extract(x.value, '$.value')), count(*)
    FROM json_each(CASE WHEN json_type(NEW.data, '$.participants') = 'array' THEN NEW.data ELSE '{}' END, '$.participants') AS x
    WHERE x.type = 'object' AND upper(json_extract(x.value, '$.value')) IN ('POSITIVE', 'NEUTRAL', 'NEGATIVE')
    GROUP BY 3
    ON CONFLICT (day, account, sentiment) DO UPDATE SET participants = participants + excluded.participants;
END;

CREATE TRIGGER aircall_intelligence_sentiment_update AFTER UPDATE ON aircall_call_intelligence
WHEN (OLD.kind = 'sentiment' OR NEW.kind = 'sentiment') AND (OLD.kind IS NOT NEW.kind OR OLD.account IS NOT NEW.account OR OLD."timestamp" IS NOT NEW."timestamp" OR OLD.data IS NOT NEW.data)
BEGIN
    INSERT INTO aircall_sentiment_days (day, account, sentiment, participants)
    SELECT CAST(OLD."timestamp" / 86400 AS INTEGER), OLD.account, upper(json_extract(x.value, '$.value')), -count(*)
    FROM json_each(CASE WHEN json_type(OLD.data, '$.participants') = 'array' THEN OLD.data ELSE '{}' END, '$.participants') AS x
    WHERE OLD.kind = 'sentiment' AND OLD."timestamp" IS NOT NULL
      AND x.type = 'object' AND upper(json_extract(x.value, '$.value')) IN ('POSITIVE', 'NEUTRAL', 'NEGATIVE')
    GROUP BY 3
    ON CONFLICT (day, account, sentiment) DO UPDATE SET participants = participants + excluded.participants;
    DELETE FROM aircall_sentiment_days WHERE participants = 0 AND day = CAST(OLD."timestamp" / 86400 AS INTEGER) AND account = OLD.account;
    INSERT INTO aircall_sentiment_days (day, account, sentiment, participants)
    SELECT CAST(NEW."timestamp" / 86400 AS INTEGER), NEW.account, upper(json_extract(x.value, '$.value')), count(*)
    FROM json_each(CASE WHEN json_type(NEW.data, '$.participants') = 'array' THEN NEW.data ELSE '{}' END, '$.participants') AS x
    WHERE NEW.kind = 'sentiment' AND NEW."timestamp" IS NOT NULL
      AND x.type = 'object' AND upper(json_extract(x.value, '$.value')) IN ('POSITIVE', 'NEUTRAL', 'NEGATIVE')
    GROUP BY 3
    ON CONFLICT (day, account, sentiment) DO UPDATE SET participants = participants + excluded.participants;
END;

CREATE TRIGGER aircall_intelligence_sentiment_delete AFTER DELETE ON aircall_call_intelligence
WHEN OLD.kind = 'sentiment' AND OLD."timestamp" IS NOT NULL
BEGIN
    INSERT INTO aircall_sentiment_days (day, account, sentiment, participants)
    SELECT CAST(OLD."timestamp" / 86400 AS INTEGER), OLD.account, upper(json_extract(x.value, '$.value')), -count(*)
    FROM json_each(CASE WHEN json_type(OLD.data, '$.participants') = 'array' THEN OLD.data ELSE '{}' END, '$.participants') AS x
    WHERE x.type = 'object' AND upper(json_extract(x.value, '$.value')) IN ('POSITIVE', 'NEUTRAL', 'NEGATIVE')
    GROUP BY 3
    ON CONFLICT (day, account, sentiment) DO UPDATE SET participants = participants + excluded.participants;
    DELETE FROM aircall_sentiment_days WHERE participants = 0 AND day = CAST(OLD."timestamp" / 86400 AS INTEGER) AND account = OLD.account;
END;

-- What is already stored: the log's wrap-up events (as the projection would have written them) and
-- their pairs, the sentiment results.
INSERT INTO aircall_wrap_up_events (account, resource_id, occurred_at, event_id, start)
SELECT account, resource_id, occurred_at, id, CASE WHEN event IN ('user.wut_start', 'user.wut_start.v2') THEN 1 ELSE 0 END
FROM events
WHERE provider = 'aircall'
  AND event IN ('user.wut_start', 'user.wut_end', 'user.wut_start.v2', 'user.wut_end.v2')
  AND occurred_at IS NOT NULL AND resource_id GLOB '[0-9]*' AND resource_id NOT GLOB '*[^0-9]*'
  AND length(resource_id) <= 18;

INSERT INTO aircall_wrap_up_days (start_day, end_day, account, user_id, seconds, pairs)
SELECT CAST(prev_at / 86400 AS INTEGER), CAST(occurred_at / 86400 AS INTEGER), account, CAST(resource_id AS INTEGER),
  sum(occurred_at - prev_at), count(*)
FROM (SELECT account, resource_id, occurred_at, start,
        lag(start) OVER w AS prev_start, lag(occurred_at) OVER w AS prev_at
      FROM aircall_wrap_up_events
      WINDOW w AS (PARTITION BY account, resource_id ORDER BY occurred_at, event_id)) AS e
WHERE start = 0 AND prev_start = 1
GROUP BY 1, 2, 3, 4;

INSERT INTO aircall_sentiment_days (day, account, sentiment, participants)
SELECT CAST(i."timestamp" / 86400 AS INTEGER), i.account, upper(json_extract(x.value, '$.value')), count(*)
FROM aircall_call_intelligence i,
  json_each(CASE WHEN json_type(i.data, '$.participants') = 'array' THEN i.data ELSE '{}' END, '$.participants') AS x
WHERE i.kind = 'sentiment' AND i."timestamp" IS NOT NULL
  AND x.type = 'object' AND upper(json_extract(x.value, '$.value')) IN ('POSITIVE', 'NEUTRAL', 'NEGATIVE')
GROUP BY 1, 2, 3;

-- From now on, the pairs follow the inserts.
-- An event arriving late lands between two stored ones: the pair those made (a start, then an end)
-- is taken back, and the event's own pairs added; so any order of arrival gives the rows the pairing
-- of the whole log gives. Duplicates never reach it (the projection inserts with DO NOTHING).
CREATE TRIGGER aircall_wrap_up_events_pair AFTER INSERT ON aircall_wrap_up_events
BEGIN
    INSERT INTO aircall_wrap_up_days (start_day, end_day, account, user_id, seconds, pairs)
    SELECT CAST(b.occurred_at / 86400 AS INTEGER), CAST(a.occurred_at / 86400 AS INTEGER), NEW.account, CAST(NEW.resource_id AS INTEGER), b.occurred_at - a.occurred_at, -1
    FROM (SELECT occurred_at, start FROM aircall_wrap_up_events WHERE account = NEW.account AND resource_id = NEW.resource_id AND occurred_at <= NEW.occurred_at AND (occurred_at < NEW.occurred_at OR event_id < NEW.event_id) ORDER BY occurred_at DESC, event_id DESC LIMIT 1) AS b, (SELECT occurred_at, start FROM aircall_wrap_up_events WHERE account = NEW.account AND resource_id = NEW.resource_id AND occurred_at >= NEW.occurred_at AND (occurred_at > NEW.occurred_at OR event_id > NEW.event_id) ORDER BY occurred_at, event_id LIMIT 1) AS a
    WHERE b.start = 1 AND a.start = 0
    ON CONFLICT (start_day, end_day, account, user_id) DO UPDATE SET seconds = seconds + excluded.seconds, pairs = pairs + excluded.pairs;
    DELETE FROM aircall_wrap_up_days WHERE pairs = 0 AND account = NEW.account AND user_id = CAST(NEW.resource_id AS INTEGER)
      AND start_day = (SELECT CAST(occurred_at / 86400 AS INTEGER) FROM (SELECT occurred_at, start FROM aircall_wrap_up_events WHERE account = NEW.account AND resource_id = NEW.resource_id AND occurred_at <= NEW.occurred_at AND (occurred_at < NEW.occurred_at OR event_id < NEW.event_id) ORDER BY occurred_at DESC, event_id DESC LIMIT 1))
      AND end_day = (SELECT CAST(occurred_at / 86400 AS INTEGER) FROM (SELECT occurred_at, start FROM aircall_wrap_up_events WHERE account = NEW.account AND resource_id = NEW.resource_id AND occurred_at >= NEW.occurred_at AND (occurred_at > NEW.occurred_at OR event_id > NEW.event_id) ORDER BY occurred_at, event_id LIMIT 1));
    INSERT INTO aircall_wrap_up_days (start_day, end_day, account, user_id, seconds, pairs)
    SELECT CAST(b.occurred_at / 86400 AS INTEGER), CAST(NEW.occurred_at / 86400 AS INTEGER), NEW.account, CAST(NEW.resource_id AS INTEGER), NEW.occurred_at - b.occurred_at, 1
    FROM (SELECT occurred_at, start FROM aircall_wrap_up_events WHERE account = NEW.account AND resource_id = NEW.resource_id AND occurred_at <= NEW.occurred_at AND (occurred_at < NEW.occurred_at OR event_id < NEW.event_id) ORDER BY occurred_at DESC, event_id DESC LIMIT 1) AS b
    WHERE b.start = 1 AND NEW.start = 0
    ON CONFLICT (start_day, end_day, account, user_id) DO UPDATE SET seconds = seconds + excluded.seconds, pairs = pairs + excluded.pairs;
    INSERT INTO aircall_wrap_up_days (start_day, end_day, account, user_id, seconds, pairs)
    SELECT CAST(NEW.occurred_at / 86400 AS INTEGER), CAST(a.occurred_at / 86400 AS INTEGER), NEW.account, CAST(NEW.resource_id AS INTEGER), a.occurred_at - NEW.occurred_at, 1
    FROM (SELECT occurred_at, start FROM aircall_wrap_up_events WHERE account = NEW.account AND resource_id = NEW.resource_id AND occurred_at >= NEW.occurred_at AND (occurred_at > NEW.occurred_at OR event_id > NEW.event_id) ORDER BY occurred_at, event_id LIMIT 1) AS a
    WHERE NEW.start = 1 AND a.start = 0
    ON CONFLICT (start_day, end_day, account, user_id) DO UPDATE SET seconds = seconds + excluded.seconds, pairs = pairs + excluded.pairs;
END;

-- The calls' rollups (0006) read the same way: their values in an index, so a year of them (35k hour
-- rows, 110k agent-day rows) is read from the index alone, not looked up row by row in the table.
CREATE INDEX aircall_call_hours_values ON aircall_call_hours (hour, account, outbound, missed, answered, reason, calls);
CREATE INDEX aircall_call_agent_days_values ON aircall_call_agent_days (day, account, user_id, seconds, calls);

-- Analytics no longer pairs wrap-ups from the log: the log's partial index of them (0005) goes, and
-- with it its cost on every append.
DROP INDEX aircall_events_wrap_up;
