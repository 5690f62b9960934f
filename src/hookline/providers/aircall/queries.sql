-- name: recordings_api_media
-- The archive rows of one call's file of one kind, in every account (two answers: ask for ?account=).
SELECT account, state, path FROM aircall_recordings WHERE call_id = ? AND kind = ?

-- name: recordings_api_media_in_account
SELECT account, state, path FROM aircall_recordings WHERE call_id = ? AND kind = ? AND account = ?

-- An optional account filter is `(CAST(? AS TEXT) IS NULL OR account = ?)`, the account passed twice:
-- the cast gives PostgreSQL the parameter's type when it is NULL.

-- name: projections_api_call
-- A call with its payload, in one account or all (two rows: the id exists in several accounts).
SELECT account, id, call_uuid, direction, status, started_at, answered_at, ended_at, duration, missed_call_reason,
  raw_digits, archived, "user", number, contact, assigned_to, teams, tags, comments, transferred_by,
  transferred_to, participants, has_recording, has_voicemail, last_event, data
FROM aircall_calls
WHERE id = ? AND (CAST(? AS TEXT) IS NULL OR account = ?)

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
SELECT account, id, call_uuid, direction, status, started_at, answered_at, ended_at, duration, missed_call_reason,
  raw_digits, archived, "user", number, contact, assigned_to, teams, tags, comments, transferred_by,
  transferred_to, participants, has_recording, has_voicemail, last_event
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
