-- The simulator's reads of what hookline stored: the demo's progress counts and the calls the truth
-- comparison checks against what the fake Aircall made.

-- name: stored_calls
SELECT count(*) FROM aircall_calls WHERE account = ?

-- name: pending_jobs
-- Jobs not done yet; parked ones wait for a person, not for the worker.
SELECT count(*) FROM jobs WHERE state <> 'parked'

-- name: backfilled_events
-- Events the watchdog's backfill fetched after the drill's outage (not delivered by webhook).
SELECT count(*) FROM events WHERE provider = 'aircall' AND origin = 'backfill'

-- name: stored_call_rows
-- The fields truth.py compares with the fake Aircall's own calls.
SELECT id, status, started_at, answered_at, ended_at, user_id, missed_call_reason
FROM aircall_calls WHERE account = ?
