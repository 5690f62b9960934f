-- Indexes for a year of calls (issue 16; measured by bench/scale.py, plans in bench/README.md).

-- Calls not done yet are few: the live board and each agent's current call read this small index
-- (an ordinary index cannot serve `status <> 'done'`).
CREATE INDEX aircall_calls_live ON aircall_calls (account, user_id, started_at, id) WHERE status <> 'done';

-- One agent's, number's or contact's calls newest first: the lists' order, no sort.
CREATE INDEX aircall_calls_user_id ON aircall_calls (user_id, id);
DROP INDEX aircall_calls_user;
CREATE INDEX aircall_calls_number_id ON aircall_calls (number_id, id);
DROP INDEX aircall_calls_number;
CREATE INDEX aircall_calls_contact ON aircall_calls (contact_id, id);

-- Sentiment shares of a period.
CREATE INDEX aircall_call_intelligence_kind ON aircall_call_intelligence (kind, "timestamp");

-- /api/contacts, newest first.
CREATE INDEX aircall_contacts_id ON aircall_contacts (id);

-- Analytics' wrap-up durations: only the wrap-up events of the log, in time order (the query repeats
-- this condition word for word, so that SQLite sees the index applies).
CREATE INDEX aircall_events_wrap_up ON events (occurred_at, id, account, resource_id, event, provider)
    WHERE provider = 'aircall' AND event IN ('user.wut_start', 'user.wut_end', 'user.wut_start.v2', 'user.wut_end.v2');
