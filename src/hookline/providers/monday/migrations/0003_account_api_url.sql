-- The API endpoint belongs to the account: set by `account add --api-url` (or recorded from
-- HOOKLINE_MONDAY_API_URL when the account was added). NULL for accounts added before this
-- migration: they keep following the setting.
ALTER TABLE monday_accounts ADD COLUMN api_url TEXT;
