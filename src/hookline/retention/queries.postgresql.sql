-- PostgreSQL's texts of retention's statements that differ.

-- name: delete_event_matches
DELETE FROM automation_matches WHERE event_id = ANY(?);
