-- Aircall's named statements.

-- name: webhook_states
-- The Installations page's webhook state per account: its registered webhooks, and how many the
-- watchdog found deactivated and has not re-enabled yet.
SELECT t.account, COUNT(DISTINCT t.webhook_id),
  (SELECT COUNT(*) FROM aircall_incidents i WHERE i.account = t.account AND i.reenabled_at IS NULL)
FROM aircall_tokens t WHERE t.webhook_id IS NOT NULL GROUP BY t.account
