-- A call's data is stored packed (packing.py): SQLite's TEXT column holds the bytes as a BLOB as it
-- is (a declared type only suggests), so nothing changes here. Rows stored before keep their JSON
-- text and read the same; each is packed when its call is next written, or by a rebuild.
SELECT 1;
