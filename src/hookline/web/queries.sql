-- The web layer's own tables: dashboard sessions (session_store.py). The admin token lives in the
-- settings table (store/stored_settings.py).

-- name: create_session
-- Only the SHA-256 of a session id is stored: the table (or a backup) gives no usable cookie.
INSERT INTO dashboard_sessions (id_sha256, created_at, last_seen_at, expires_at, user_agent) VALUES (?, ?, ?, ?, ?);

-- name: get_session
-- The columns of SessionRow, in its order.
SELECT id_sha256, created_at, last_seen_at, expires_at, user_agent FROM dashboard_sessions WHERE id_sha256 = ?;

-- name: touch_session
UPDATE dashboard_sessions SET last_seen_at = ? WHERE id_sha256 = ?;

-- name: delete_session
DELETE FROM dashboard_sessions WHERE id_sha256 = ?;

-- name: delete_all_sessions
DELETE FROM dashboard_sessions;

-- name: purge_sessions
-- Sessions that can no longer sign anyone in: expired, or idle too long.
DELETE FROM dashboard_sessions WHERE expires_at <= ? OR last_seen_at < ?;

-- name: active_sessions
SELECT id_sha256, created_at, last_seen_at, expires_at, user_agent FROM dashboard_sessions
WHERE expires_at > ? AND last_seen_at >= ?
ORDER BY last_seen_at DESC;
