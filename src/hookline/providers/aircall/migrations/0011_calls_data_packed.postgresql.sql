-- A call's data is stored packed (packing.py: deflated JSON, a format byte first), which jsonb cannot
-- hold. Rows stored before keep their JSON, as the bytes of its text, and read the same (a value whose
-- first byte is no format byte is JSON); each is packed when its call is next written, or by a rebuild.
-- One rewrite of the table, holding its lock (3.3 s for 100,000 calls at load 4; docs/operations.md).
ALTER TABLE aircall_calls ALTER COLUMN data TYPE BYTEA USING convert_to(data::text, 'UTF8');
