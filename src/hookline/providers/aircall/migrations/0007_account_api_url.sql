-- The API base URL belongs to the account: set by `account add --api-url` (or recorded from
-- HOOKLINE_AIRCALL_API_URL when the account was added). NULL for accounts added before this
-- migration: they keep following the setting.
ALTER TABLE aircall_accounts ADD COLUMN api_url TEXT;
