-- A call's nested objects stored once (issue 16). The user, number, contact, assigned_to, teams, tags,
-- comments, transferred_by, transferred_to and participants columns held the objects `data` (the call
-- as Aircall sent it) holds too: dropped, the API, the dashboard and exports derive them from `data`
-- (providers/aircall/nested.py; no query filters or sorts on them). And the user, number and contact
-- objects, the same for many calls, are stored once each in aircall_call_parts: a call's data keeps a 0
-- in their place and the call row their ids. Rows already stored keep their whole data (nested.py
-- reads both); `hookline rebuild` (from the log) splits them too.
--
-- PostgreSQL: a DROP COLUMN only changes the catalog (a brief ACCESS EXCLUSIVE lock, no rewrite); old
-- rows keep the dropped values on disk until they are rewritten (an update of the call, a rebuild, or
-- VACUUM FULL / pg_repack of aircall_calls: docs/operations.md "Sizing").
-- SQLite: each DROP COLUMN rewrites the table in this migration's transaction (measured in bench/README.md
-- "Storage per call"); the file shrinks only after `hookline db vacuum`.
CREATE TABLE aircall_call_parts (
    account TEXT   NOT NULL,
    id      BIGINT NOT NULL,
    value   {{json}} NOT NULL,
    PRIMARY KEY (account, id)
);
ALTER TABLE aircall_calls ADD COLUMN user_part BIGINT;
ALTER TABLE aircall_calls ADD COLUMN number_part BIGINT;
ALTER TABLE aircall_calls ADD COLUMN contact_part BIGINT;
ALTER TABLE aircall_calls DROP COLUMN "user";
ALTER TABLE aircall_calls DROP COLUMN number;
ALTER TABLE aircall_calls DROP COLUMN contact;
ALTER TABLE aircall_calls DROP COLUMN assigned_to;
ALTER TABLE aircall_calls DROP COLUMN teams;
ALTER TABLE aircall_calls DROP COLUMN tags;
ALTER TABLE aircall_calls DROP COLUMN comments;
ALTER TABLE aircall_calls DROP COLUMN transferred_by;
ALTER TABLE aircall_calls DROP COLUMN transferred_to;
ALTER TABLE aircall_calls DROP COLUMN participants;
