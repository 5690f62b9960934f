-- name: session_key_insert
-- The key that signs session cookies: the first process to start writes it, the others keep theirs out.
INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING

-- name: session_key
SELECT value FROM settings WHERE key = ?
