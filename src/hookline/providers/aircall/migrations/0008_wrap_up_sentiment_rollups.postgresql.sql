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
CREATE TABLE aircall_wrap_up_days (
    start_day BIGINT           NOT NULL,
    end_day   BIGINT           NOT NULL,
    account   TEXT             NOT NULL,
    user_id   BIGINT           NOT NULL,
    seconds   DOUBLE PRECISION NOT NULL,
    pairs     BIGINT           NOT NULL,
    PRIMARY KEY (start_day, end_day, account, user_id)
);

-- Callers' moods per day: each participant's `value` of the sentiment results (the three the report
-- shows), kept by triggers on aircall_call_intelligence: each change subtracts the row's old
-- contribution and adds its new one, so a re-delivered or updated result never counts twice.
CREATE TABLE aircall_sentiment_days (
    day          BIGINT NOT NULL,
    account      TEXT   NOT NULL,
    sentiment    TEXT   NOT NULL,
    participants BIGINT NOT NULL,
    PRIMARY KEY (day, account, sentiment)
);

CREATE FUNCTION aircall_intelligence_sentiment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.kind = 'sentiment' AND OLD."timestamp" IS NOT NULL THEN
        INSERT INTO aircall_sentiment_days AS s (day, account, sentiment, participants)
        SELECT floor(OLD."timestamp" / 86400)::bigint, OLD.account, upper(x.v ->> 'value'), -count(*)
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(OLD.data -> 'participants') = 'array'
          THEN OLD.data -> 'participants' ELSE '[]'::jsonb END) AS x(v)
        WHERE jsonb_typeof(x.v) = 'object' AND upper(x.v ->> 'value') IN ('POSITIVE', 'NEUTRAL', 'NEGATIVE')
        GROUP BY 3
        ON CONFLICT (day, account, sentiment) DO UPDATE SET participants = s.participants + excluded.participants;
        DELETE FROM aircall_sentiment_days WHERE participants = 0 AND day = floor(OLD."timestamp" / 86400)::bigint AND account = OLD.account;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.kind = 'sentiment' AND NEW."timestamp" IS NOT NULL THEN
        INSERT INTO aircall_sentiment_days AS s (day, account, sentiment, participants)
        SELECT floor(NEW."timestamp" / 86400)::bigint, NEW.account, upper(x.v ->> 'value'), count(*)
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(NEW.data -> 'participants') = 'array'
          THEN NEW.data -> 'participants' ELSE '[]'::jsonb END) AS x(v)
        WHERE jsonb_typeof(x.v) = 'object' AND upper(x.v ->> 'value') IN ('POSITIVE', 'NEUTRAL', 'NEGATIVE')
        GROUP BY 3
        ON CONFLICT (day, account, sentiment) DO UPDATE SET participants = s.participants + excluded.participants;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER aircall_intelligence_sentiment_insert AFTER INSERT ON aircall_call_intelligence
    FOR EACH ROW WHEN (NEW.kind = 'sentiment') EXECUTE FUNCTION aircall_intelligence_sentiment();
CREATE TRIGGER aircall_intelligence_sentiment_delete AFTER DELETE ON aircall_call_intelligence
    FOR EACH ROW WHEN (OLD.kind = 'sentiment') EXECUTE FUNCTION aircall_intelligence_sentiment();
CREATE TRIGGER aircall_intelligence_sentiment_update AFTER UPDATE ON aircall_call_intelligence
    FOR EACH ROW WHEN ((OLD.kind = 'sentiment' OR NEW.kind = 'sentiment') AND (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.account IS DISTINCT FROM NEW.account OR OLD."timestamp" IS DISTINCT FROM NEW."timestamp" OR OLD.data IS DISTINCT FROM NEW.data)) EXECUTE FUNCTION aircall_intelligence_sentiment();

-- What is already stored: the log's wrap-up events (as the projection would have written them) and
-- their pairs, the sentiment results.
INSERT INTO aircall_wrap_up_events (account, resource_id, occurred_at, event_id, start)
SELECT account, resource_id, occurred_at, id, CASE WHEN event IN ('user.wut_start', 'user.wut_start.v2') THEN 1 ELSE 0 END
FROM events
WHERE provider = 'aircall'
  AND event IN ('user.wut_start', 'user.wut_end', 'user.wut_start.v2', 'user.wut_end.v2')
  AND occurred_at IS NOT NULL AND resource_id ~ '^[0-9]{1,18}$';

INSERT INTO aircall_wrap_up_days (start_day, end_day, account, user_id, seconds, pairs)
SELECT floor(prev_at / 86400)::bigint, floor(occurred_at / 86400)::bigint, account, resource_id::bigint,
  sum(occurred_at - prev_at), count(*)
FROM (SELECT account, resource_id, occurred_at, start,
        lag(start) OVER w AS prev_start, lag(occurred_at) OVER w AS prev_at
      FROM aircall_wrap_up_events
      WINDOW w AS (PARTITION BY account, resource_id ORDER BY occurred_at, event_id)) AS e
WHERE start = 0 AND prev_start = 1
GROUP BY 1, 2, 3, 4;

INSERT INTO aircall_sentiment_days (day, account, sentiment, participants)
SELECT floor(i."timestamp" / 86400)::bigint, i.account, upper(x.v ->> 'value'), count(*)
FROM aircall_call_intelligence i
  CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(i.data -> 'participants') = 'array'
    THEN i.data -> 'participants' ELSE '[]'::jsonb END) AS x(v)
WHERE i.kind = 'sentiment' AND i."timestamp" IS NOT NULL
  AND jsonb_typeof(x.v) = 'object' AND upper(x.v ->> 'value') IN ('POSITIVE', 'NEUTRAL', 'NEGATIVE')
GROUP BY 1, 2, 3;

-- From now on, the pairs follow the inserts.
-- An event arriving late lands between two stored ones: the pair those made (a start, then an end)
-- is taken back, and the event's own pairs added; so any order of arrival gives the rows the pairing
-- of the whole log gives. BEFORE INSERT: one statement inserts a whole batch, and each row must see
-- the rows before it, not after (an AFTER trigger runs when the statement is done); a row already
-- stored (a re-delivery) is skipped here, since BEFORE triggers run before ON CONFLICT. Under a
-- transaction-scoped lock per agent (the projection inserts in key order): concurrent workers.
CREATE FUNCTION aircall_wrap_up_pair() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    agent bigint := NEW.resource_id::bigint;
    b_at double precision;
    b_start integer;
    a_at double precision;
    a_start integer;
BEGIN
    PERFORM pg_advisory_xact_lock(728115016, hashtext(NEW.account || '/' || NEW.resource_id));
    IF EXISTS (SELECT 1 FROM aircall_wrap_up_events WHERE account = NEW.account AND resource_id = NEW.resource_id
               AND occurred_at = NEW.occurred_at AND event_id = NEW.event_id) THEN
        RETURN NULL;
    END IF;
    SELECT occurred_at, start INTO b_at, b_start FROM aircall_wrap_up_events
    WHERE account = NEW.account AND resource_id = NEW.resource_id AND (occurred_at, event_id) < (NEW.occurred_at, NEW.event_id)
    ORDER BY occurred_at DESC, event_id DESC LIMIT 1;
    SELECT occurred_at, start INTO a_at, a_start FROM aircall_wrap_up_events
    WHERE account = NEW.account AND resource_id = NEW.resource_id AND (occurred_at, event_id) > (NEW.occurred_at, NEW.event_id)
    ORDER BY occurred_at, event_id LIMIT 1;
    IF b_start = 1 AND a_start = 0 THEN
        INSERT INTO aircall_wrap_up_days AS d (start_day, end_day, account, user_id, seconds, pairs)
        VALUES (floor(b_at / 86400)::bigint, floor(a_at / 86400)::bigint, NEW.account, agent, b_at - a_at, -1)
        ON CONFLICT (start_day, end_day, account, user_id) DO UPDATE SET seconds = d.seconds + excluded.seconds, pairs = d.pairs + excluded.pairs;
        DELETE FROM aircall_wrap_up_days d WHERE d.pairs = 0 AND d.start_day = floor(b_at / 86400)::bigint
          AND d.end_day = floor(a_at / 86400)::bigint AND d.account = NEW.account AND d.user_id = agent;
    END IF;
    IF b_start = 1 AND NEW.start = 0 THEN
        INSERT INTO aircall_wrap_up_days AS d (start_day, end_day, account, user_id, seconds, pairs)
        VALUES (floor(b_at / 86400)::bigint, floor(NEW.occurred_at / 86400)::bigint, NEW.account, agent, NEW.occurred_at - b_at, 1)
        ON CONFLICT (start_day, end_day, account, user_id) DO UPDATE SET seconds = d.seconds + excluded.seconds, pairs = d.pairs + excluded.pairs;
    END IF;
    IF NEW.start = 1 AND a_start = 0 THEN
        INSERT INTO aircall_wrap_up_days AS d (start_day, end_day, account, user_id, seconds, pairs)
        VALUES (floor(NEW.occurred_at / 86400)::bigint, floor(a_at / 86400)::bigint, NEW.account, agent, a_at - NEW.occurred_at, 1)
        ON CONFLICT (start_day, end_day, account, user_id) DO UPDATE SET seconds = d.seconds + excluded.seconds, pairs = d.pairs + excluded.pairs;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER aircall_wrap_up_events_pair BEFORE INSERT ON aircall_wrap_up_events
    FOR EACH ROW EXECUTE FUNCTION aircall_wrap_up_pair();

-- The calls' rollups (0006) read the same way: their values in an index, so a year of them (35k hour
-- rows, 110k agent-day rows) is read from the index alone, not looked up row by row in the table.
CREATE INDEX aircall_call_hours_values ON aircall_call_hours (hour, account, outbound, missed, answered, reason, calls);
CREATE INDEX aircall_call_agent_days_values ON aircall_call_agent_days (day, account, user_id, seconds, calls);

-- Analytics no longer pairs wrap-ups from the log: the log's partial index of them (0005) goes, and
-- with it its cost on every append.
DROP INDEX aircall_events_wrap_up;
