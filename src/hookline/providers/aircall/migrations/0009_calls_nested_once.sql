-- A call's nested objects stored once (issue 16): the user, number, contact, assigned_to, teams, tags,
-- comments, transferred_by, transferred_to and participants columns held the same objects as `data`
-- (the call as Aircall sent it), about a third of a call's row. The API, the dashboard and exports now
-- derive them from `data` (providers/aircall/nested.py); no query filters or sorts on them.
--
-- PostgreSQL: each DROP COLUMN only changes the catalog (a brief ACCESS EXCLUSIVE lock, no rewrite); the
-- old rows keep the dropped values on disk until they are rewritten (an update of the call, or a
-- VACUUM FULL / pg_repack of aircall_calls: docs/operations.md "Sizing").
-- SQLite: each DROP COLUMN rewrites the table in this migration's transaction (measured at 1M calls in
-- bench/README.md "Scale"); the file shrinks only after `hookline db vacuum`.
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
