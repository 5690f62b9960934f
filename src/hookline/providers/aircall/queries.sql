-- Aircall's statements: backfill checkpoints, watchdog incidents, the recordings archive.
-- Loaded by name with hookline.store.queries.load_queries (see that module for the file's rules).

-- ---------------------------------------------------------------- backfill checkpoints (checkpoints.py)

-- name: checkpoint
SELECT account, resource, since, until, position, fetched, new, done
FROM aircall_backfill_checkpoints
WHERE account = ? AND resource = ? AND since = ? AND until = ?;

-- name: start_checkpoint
-- A finished window started again is read again from its start: the row is reset, not duplicated.
INSERT INTO aircall_backfill_checkpoints
    (account, resource, since, until, position, fetched, new, done, started_at, updated_at)
VALUES (?, ?, ?, ?, ?, 0, 0, FALSE, ?, ?)
ON CONFLICT (account, resource, since, until) DO UPDATE SET
    position = excluded.position, fetched = 0, new = 0, done = FALSE,
    started_at = excluded.started_at, updated_at = excluded.updated_at;

-- name: save_checkpoint
UPDATE aircall_backfill_checkpoints SET position = ?, fetched = ?, new = ?, done = ?, updated_at = ?
WHERE account = ? AND resource = ? AND since = ? AND until = ?;

-- name: unfinished_windows
-- Latest first; the caller keeps the first whose resource it asked about (a handful of rows per window).
SELECT resource, until FROM aircall_backfill_checkpoints
WHERE account = ? AND since = ? AND NOT done
ORDER BY updated_at DESC;

-- ---------------------------------------------------------------- watchdog incidents (incidents.py)

-- name: open_incident
INSERT INTO aircall_incidents (account, webhook_id, url, detected_at) VALUES (?, ?, ?, ?) RETURNING id;

-- name: incident_reenabled
UPDATE aircall_incidents SET reenabled_at = ? WHERE id = ?;

-- name: incident_failed
-- Re-enabling failed: its backfill is skipped (backfill_status: pending -> running -> done | failed).
UPDATE aircall_incidents SET error = ?, backfill_status = 'skipped' WHERE id = ?;

-- name: incident_window
UPDATE aircall_incidents
SET last_event_at = ?, backfill_since = ?, backfill_until = ?, backfill_status = 'running'
WHERE id = ?;

-- name: incident_backfilled
UPDATE aircall_incidents SET backfill_status = ?, backfill_new = ?, error = ? WHERE id = ?;

-- name: unfinished_incidents
-- Backfill windows that were interrupted (still running) or failed.
SELECT id, backfill_since, backfill_until FROM aircall_incidents
WHERE account = ? AND backfill_status IN ('running', 'failed') AND backfill_since IS NOT NULL
ORDER BY id;

-- name: recent_incidents
SELECT id, account, webhook_id, url, detected_at, reenabled_at, last_event_at, backfill_since, backfill_until,
    backfill_status, backfill_new, error
FROM aircall_incidents ORDER BY id DESC LIMIT ?;

-- name: recent_incidents_of_account
SELECT id, account, webhook_id, url, detected_at, reenabled_at, last_event_at, backfill_since, backfill_until,
    backfill_status, backfill_new, error
FROM aircall_incidents WHERE account = ? ORDER BY id DESC LIMIT ?;

-- ---------------------------------------------------------------- recordings archive (recordings.py)

-- name: want_recording
-- Idempotent: a replay of the log meets the existing row and leaves it (and its file) alone.
INSERT INTO aircall_recordings (account, call_id, kind, started_at, run_at, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, call_id, kind) DO NOTHING;

-- name: claim_recordings
-- Due rows: pending, or running with an expired lease (run_at is the lease's end), of installed accounts.
-- On PostgreSQL the subquery takes its rows FOR UPDATE SKIP LOCKED (queries.postgresql.sql); SQLite runs
-- it under the database's single write lock, which is as exclusive.
UPDATE aircall_recordings SET state = 'running', claim = ?, attempts = attempts + 1, run_at = ?, updated_at = ?
WHERE id IN (
    SELECT id FROM aircall_recordings
    WHERE state IN ('pending', 'running') AND run_at <= ?
      AND account NOT IN (SELECT account FROM oauth_installations WHERE provider = 'aircall' AND NOT installed)
    ORDER BY run_at LIMIT ?
)
RETURNING id, account, call_id, kind, started_at, attempts;

-- name: renew_recordings
UPDATE aircall_recordings SET run_at = ?, updated_at = ? WHERE claim = ? AND state = 'running';

-- name: recording_archived
-- Fenced by the claim token: an archiver whose lease lapsed changes nothing.
UPDATE aircall_recordings
SET state = 'archived', claim = NULL, last_error = NULL, path = ?, size = ?, sha256 = ?, archived_at = ?,
    run_at = ?, updated_at = ?
WHERE id = ? AND claim = ?;

-- name: recording_failed
-- state is 'pending' (retried at run_at) or 'parked'; fenced by the claim token.
UPDATE aircall_recordings SET state = ?, claim = NULL, run_at = ?, last_error = ?, updated_at = ?
WHERE id = ? AND claim = ?;

-- name: release_recordings
-- Handed back untouched (shutdown): due at once, the attempt not counted.
UPDATE aircall_recordings
SET state = 'pending', claim = NULL, run_at = ?, attempts = attempts - 1, updated_at = ?
WHERE claim = ? AND state = 'running';

-- name: park_abandoned_recordings
-- The lease lapsed on the last attempt: the archiver died with this row every time.
UPDATE aircall_recordings
SET state = 'parked', claim = NULL, updated_at = ?,
    last_error = 'the archiver stopped before finishing, ' || attempts || ' times'
WHERE state = 'running' AND run_at <= ? AND attempts >= ?;

-- name: recordings_list_fragment
-- list_recordings adds the filters asked for (the *_clause below) and the order; WHERE TRUE lets
-- every filter start with AND.
SELECT id, account, call_id, kind, started_at, state, run_at, attempts, last_error, path, size, sha256,
    archived_at, created_at, updated_at
FROM aircall_recordings WHERE TRUE

-- name: recording_state_clause
AND state = ?

-- name: recording_account_clause
AND account = ?

-- name: recording_before_clause
AND id < ?

-- name: newest_recordings_clause
ORDER BY id DESC LIMIT ?

-- name: recordings_of_call
SELECT id, account, call_id, kind, started_at, state, run_at, attempts, last_error, path, size, sha256,
    archived_at, created_at, updated_at
FROM aircall_recordings WHERE account = ? AND call_id = ?;

-- name: recording
SELECT id, account, call_id, kind, started_at, state, run_at, attempts, last_error, path, size, sha256,
    archived_at, created_at, updated_at
FROM aircall_recordings WHERE id = ?;

-- name: retry_parked_recordings
-- A fresh attempt budget for every parked row.
UPDATE aircall_recordings SET state = 'pending', run_at = ?, attempts = 0, updated_at = ?
WHERE state = 'parked';

-- name: retry_parked_recording
UPDATE aircall_recordings SET state = 'pending', run_at = ?, attempts = 0, updated_at = ?
WHERE state = 'parked' AND id = ?;

-- name: recording_states
SELECT state, count(*) FROM aircall_recordings GROUP BY state;

-- name: count_recordings
SELECT count(*) FROM aircall_recordings;

-- name: calls_with_media_fragment
-- `recordings sync`: finished calls already projected that carry media; want_since adds the clauses.
SELECT account, id, has_recording, has_voicemail, started_at FROM aircall_calls
WHERE started_at >= ? AND status = 'done' AND (has_recording OR has_voicemail)

-- name: started_until_clause
AND started_at <= ?

-- name: call_account_clause
AND account = ?

-- ---------------------------------------------------------------- archive check (recordings_verify.py)

-- name: archived_page
-- A page of archived rows by id (keyset), in check_row's column order.
SELECT id, account, call_id, kind, path, size, sha256 FROM aircall_recordings
WHERE state = 'archived' AND id > ? ORDER BY id LIMIT ?;

-- name: archived_page_of_account
SELECT id, account, call_id, kind, path, size, sha256 FROM aircall_recordings
WHERE state = 'archived' AND id > ? AND account = ? ORDER BY id LIMIT ?;

-- name: archived_row
SELECT state, id, account, call_id, kind, path, size, sha256 FROM aircall_recordings WHERE id = ?;

-- name: requeue_recording
-- Back to pending with a fresh budget; path, size and sha256 go (the row no longer vouches for a file).
-- Only a row still archived: one the archiver holds (a concurrent requeue) is left to it.
UPDATE aircall_recordings
SET state = 'pending', claim = NULL, attempts = 0, run_at = ?, last_error = ?,
    path = NULL, size = NULL, sha256 = NULL, archived_at = NULL, updated_at = ?
WHERE id = ? AND state = 'archived';

-- name: known_recordings_account
-- An account with credentials, or with rows in the archive (credentials removed since).
SELECT 1 FROM aircall_accounts WHERE name = ?
UNION ALL SELECT 1 FROM aircall_recordings WHERE account = ?;
-- name: recordings_api_media
-- The archive rows of one call's file of one kind, in every account (two answers: ask for ?account=).
SELECT account, state, path FROM aircall_recordings WHERE call_id = ? AND kind = ?

-- name: recordings_api_media_in_account
SELECT account, state, path FROM aircall_recordings WHERE call_id = ? AND kind = ? AND account = ?

-- An optional account filter is `(CAST(? AS TEXT) IS NULL OR account = ?)`, the account passed twice:
-- the cast gives PostgreSQL the parameter's type when it is NULL.

-- name: projections_api_call
-- A call with its payload, in one account or all (two rows: the id exists in several accounts).
-- `data AS nested`: the call's user, number, contact... objects, which projections_api derives from
-- its data made whole with its parts (nested.py: each is stored once).
SELECT account, id, call_uuid, direction, status, started_at, answered_at, ended_at, duration, missed_call_reason,
  raw_digits, archived, data AS nested, has_recording, has_voicemail, last_event, data,
  (SELECT p.value FROM aircall_call_parts p
   WHERE p.account = aircall_calls.account AND p.id = aircall_calls.user_part) AS part_user,
  (SELECT p.value FROM aircall_call_parts p
   WHERE p.account = aircall_calls.account AND p.id = aircall_calls.number_part) AS part_number,
  (SELECT p.value FROM aircall_call_parts p
   WHERE p.account = aircall_calls.account AND p.id = aircall_calls.contact_part) AS part_contact
FROM aircall_calls
WHERE id = ? AND (CAST(? AS TEXT) IS NULL OR account = ?)

-- name: call_part
-- One of the objects calls share (nested.py), for exports.
SELECT value FROM aircall_call_parts WHERE account = ? AND id = ?

-- name: projections_api_call_timeline
SELECT event, "timestamp", event_id FROM aircall_call_timeline
WHERE call_id = ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
ORDER BY "timestamp", event_id

-- name: projections_api_call_intelligence
SELECT kind, result_id, event, "timestamp", data FROM aircall_call_intelligence
WHERE call_id = ? AND (CAST(? AS TEXT) IS NULL OR account = ?)
ORDER BY kind, "timestamp"

-- The list endpoints (/api/calls, /api/agents...) and the Calls page add their filters, newest first,
-- to these: WHERE ... ORDER BY <alias.>id DESC LIMIT ?.

-- name: projections_api_calls_fragment
-- `data AS nested`: the nested objects, derived from data and its parts (nested.py); data itself is
-- not listed.
SELECT account, id, call_uuid, direction, status, started_at, answered_at, ended_at, duration, missed_call_reason,
  raw_digits, archived, data AS nested, has_recording, has_voicemail, last_event,
  (SELECT p.value FROM aircall_call_parts p
   WHERE p.account = aircall_calls.account AND p.id = aircall_calls.user_part) AS part_user,
  (SELECT p.value FROM aircall_call_parts p
   WHERE p.account = aircall_calls.account AND p.id = aircall_calls.number_part) AS part_number,
  (SELECT p.value FROM aircall_call_parts p
   WHERE p.account = aircall_calls.account AND p.id = aircall_calls.contact_part) AS part_contact
FROM aircall_calls

-- name: projections_api_agents_fragment
-- current_call_id: the agent's latest call that is not done yet (read from the calls, so it is as
-- order-independent as they are).
SELECT u.account, u.id, COALESCE(u.name, u.seen_name) AS name, COALESCE(u.email, u.seen_email) AS email,
  u.available, u.availability_status, u.substatus, u.time_zone, u.language, u.wrap_up_time, u.deleted,
  u.connected, u.in_wrap_up, CASE WHEN u.last_seen < 0 THEN NULL ELSE u.last_seen END AS last_seen,
  (SELECT c.id FROM aircall_calls c WHERE c.account = u.account AND c.user_id = u.id
   AND c.status <> 'done' ORDER BY c.started_at DESC, c.id DESC LIMIT 1) AS current_call_id
FROM aircall_users u

-- name: projections_api_contacts_fragment
SELECT account, id, first_name, last_name, company_name, description, information, is_shared, phone_numbers,
  emails, created_at, updated_at, deleted
FROM aircall_contacts

-- name: projections_api_numbers_fragment
SELECT account, id, name, digits, e164_digits, country, time_zone, "open", availability_status, is_ivr,
  live_recording_activated, priority, users, created_at, deleted
FROM aircall_numbers

-- name: projections_api_teams_fragment
SELECT account, id, name, users, created_at, deleted FROM aircall_teams

-- name: projections_api_tags_fragment
SELECT account, id, name, color, description FROM aircall_tags

-- name: projections_api_messages_fragment
-- Message ids are strings: pages go newest first by (COALESCE(created_at, 0), id).
SELECT account, id, kind, direction, status, channel, body, external_number, raw_digits, number_id,
  contact_id, user_id, participants, media_details, created_at, sent_at, updated_at, last_event
FROM aircall_messages
-- The OAuth install's writes (oauth_install.py), in the install's one transaction.

-- name: oauth_install_name_taken
-- A new install's account is named from the company; a taken name gets a -2, -3... suffix.
SELECT 1 FROM aircall_accounts WHERE name = ?

-- name: oauth_install_account
-- The account becomes an OAuth one (no API id; the sealed access token as its secret), keeping its
-- name and creation time on a re-install.
INSERT INTO aircall_accounts (name, scheme, api_id, secret, created_at, updated_at, api_url)
VALUES (?, 'oauth', NULL, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET scheme = 'oauth', api_id = NULL, secret = excluded.secret,
  updated_at = excluded.updated_at, api_url = excluded.api_url

-- name: oauth_install_drop_tokens
-- The earlier install's webhook tokens go with it (its webhooks are deleted after the commit).
DELETE FROM aircall_tokens WHERE account = ?

-- name: oauth_install_token
INSERT INTO aircall_tokens (token_sha256, hint, account, webhook_id, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (token_sha256) DO UPDATE SET account = excluded.account, webhook_id = excluded.webhook_id

-- Aircall's named statements.

-- name: webhook_states
-- The Installations page's webhook state per account: its registered webhooks, and how many the
-- watchdog found deactivated and has not re-enabled yet.
SELECT t.account, COUNT(DISTINCT t.webhook_id),
  (SELECT COUNT(*) FROM aircall_incidents i WHERE i.account = t.account AND i.reenabled_at IS NULL)
FROM aircall_tokens t WHERE t.webhook_id IS NOT NULL GROUP BY t.account

-- ---------------------------------------------------------------- accounts (accounts.py)

-- name: account_known
SELECT 1 FROM aircall_accounts WHERE name = ?

-- name: save_account
-- A replaced account keeps its own API URL unless one is given (the last parameter: the URL or NULL);
-- a new one records the URL given or the setting at add time.
INSERT INTO aircall_accounts (name, scheme, api_id, secret, created_at, updated_at, api_url)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET scheme = excluded.scheme, api_id = excluded.api_id, secret = excluded.secret,
  updated_at = excluded.updated_at, api_url = COALESCE(?, aircall_accounts.api_url)

-- name: set_account_api_url
UPDATE aircall_accounts SET api_url = ?, updated_at = ? WHERE name = ?

-- name: account_api_url
SELECT api_url FROM aircall_accounts WHERE name = ?

-- name: forget_account_installation
-- Removing an account forgets its OAuth install too: a later install of the company starts afresh.
DELETE FROM oauth_installations WHERE provider = 'aircall' AND account = ?

-- name: remove_account
DELETE FROM aircall_accounts WHERE name = ?

-- name: accounts
-- Listings: an account without an OAuth install counts as installed.
SELECT a.name, a.scheme, a.api_id, a.secret, a.created_at, a.updated_at, a.api_url, COALESCE(i.installed, TRUE)
FROM aircall_accounts a
LEFT JOIN oauth_installations i ON i.provider = 'aircall' AND i.account = a.name
ORDER BY a.name

-- name: account_credentials
SELECT scheme, api_id, secret FROM aircall_accounts WHERE name = ?

-- ---------------------------------------------------------------- webhook tokens (tokens.py)

-- name: token_owner
SELECT account FROM aircall_tokens WHERE token_sha256 = ?

-- name: save_token
-- A re-registered token moves to the account given and keeps its webhook id unless a new one comes.
INSERT INTO aircall_tokens (token_sha256, hint, account, webhook_id, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (token_sha256) DO UPDATE
SET account = excluded.account, webhook_id = COALESCE(excluded.webhook_id, aircall_tokens.webhook_id)

-- name: remove_token
DELETE FROM aircall_tokens WHERE token_sha256 = ?

-- name: remove_webhook_tokens
DELETE FROM aircall_tokens WHERE webhook_id = ?

-- name: tokens
SELECT hint, account, webhook_id, created_at, token_sha256 FROM aircall_tokens ORDER BY account, created_at

-- name: tokens_of_account
SELECT hint, account, webhook_id, created_at, token_sha256 FROM aircall_tokens
WHERE account = ? ORDER BY account, created_at

-- name: accepted_tokens
-- The receiver's map: not the tokens of an account uninstalled through OAuth.
SELECT token_sha256, account FROM aircall_tokens t
WHERE NOT EXISTS (SELECT 1 FROM oauth_installations i
  WHERE i.provider = 'aircall' AND i.account = t.account AND NOT i.installed)

-- ---------------------------------------------------------------- call rollups in batches (projections.py, migration 0012)

-- name: rollups_batch_start
-- The calls written until rollups_batch_end journal their rollup changes instead of applying them.
UPDATE aircall_call_rollup_mode SET batched = 1;

-- name: rollups_batch_hours
-- The journal summed per hour row, in key order (the order in which concurrent workers lock rows).
INSERT INTO aircall_call_hours (hour, account, outbound, missed, answered, reason, calls)
SELECT hour, account, outbound, missed, answered, reason, sum(sign)
FROM aircall_call_rollup_changes WHERE true
GROUP BY hour, account, outbound, missed, answered, reason HAVING sum(sign) <> 0
ORDER BY hour, account, outbound, missed, answered, reason
ON CONFLICT (hour, account, outbound, missed, answered, reason) DO UPDATE
SET calls = aircall_call_hours.calls + excluded.calls;

-- name: rollups_batch_agent_days
-- A done call's duration can change with its count unchanged: either sum makes a change.
INSERT INTO aircall_call_agent_days (day, account, user_id, seconds, calls)
SELECT day, account, user_id, sum(sign * seconds), sum(sign)
FROM aircall_call_rollup_changes WHERE user_id IS NOT NULL
GROUP BY day, account, user_id HAVING sum(sign) <> 0 OR sum(sign * seconds) <> 0
ORDER BY day, account, user_id
ON CONFLICT (day, account, user_id) DO UPDATE
SET seconds = aircall_call_agent_days.seconds + excluded.seconds, calls = aircall_call_agent_days.calls + excluded.calls;

-- name: rollups_batch_hours_zeros
-- As 0006's triggers do: a row that fell to zero goes (the rows the journal touched only).
DELETE FROM aircall_call_hours
WHERE calls = 0 AND (hour, account) IN (SELECT hour, account FROM aircall_call_rollup_changes);

-- name: rollups_batch_agent_days_zeros
DELETE FROM aircall_call_agent_days
WHERE calls = 0 AND (day, account) IN (SELECT day, account FROM aircall_call_rollup_changes WHERE user_id IS NOT NULL);

-- name: rollups_batch_clear
DELETE FROM aircall_call_rollup_changes;

-- name: rollups_batch_end
UPDATE aircall_call_rollup_mode SET batched = 0;
