"""Migration scripts with ';' where it does not end a statement: comments, literals, trigger bodies
(and dollar-quoted function bodies on PostgreSQL), applied on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookline.store import migrations
from hookline.store.engine import Database

SQLITE = """-- a comment; with a semicolon
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL DEFAULT 'a;b', seen INTEGER NOT NULL DEFAULT 0);
/* a block comment; also
   with a semicolon; */
CREATE TABLE "odd;name" (x TEXT);
CREATE TRIGGER notes_seen AFTER INSERT ON notes BEGIN
  UPDATE notes SET seen = seen + 1 WHERE id = NEW.id;  -- inside the body; still the trigger
  INSERT INTO "odd;name" (x) VALUES ('from the trigger; really?');
END;
-- the end; nothing after this
"""

POSTGRESQL = """-- a comment; with a semicolon
CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL DEFAULT 'a;b', seen INTEGER NOT NULL DEFAULT 0);
/* a block comment; also
   with a semicolon; */
CREATE TABLE "odd;name" (x TEXT);
CREATE FUNCTION notes_seen() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  UPDATE notes SET seen = seen + 1 WHERE id = NEW.id;  -- inside the body; still the function
  INSERT INTO "odd;name" (x) VALUES ('from the trigger; really?');
  RETURN NULL;
END;
$body$;
CREATE TRIGGER notes_seen AFTER INSERT ON notes FOR EACH ROW EXECUTE FUNCTION notes_seen();
-- the end; nothing after this
"""


def test_semicolons_inside_comments_literals_and_bodies(database_url: str, tmp_path: Path) -> None:
    for dialect, sql in (("sqlite", SQLITE), ("postgresql", POSTGRESQL)):
        (tmp_path / "m" / dialect).mkdir(parents=True)
        (tmp_path / "m" / dialect / "0001_notes.sql").write_text(sql)
    db = Database(database_url)
    try:
        ran = migrations.upgrade(db, [migrations.MigrationSource("semicolons", tmp_path / "m")])
        assert [(m.component, m.version) for m in ran] == [("semicolons", 1)]
        with db.connection() as conn:
            conn.execute("INSERT INTO notes (id) VALUES (1)")
            assert conn.fetchone("SELECT body, seen FROM notes") == ("a;b", 1)
            assert conn.scalar('SELECT x FROM "odd;name"') == "from the trigger; really?"
    finally:
        db.close()


def test_sqlite_split_cuts_only_where_statements_end() -> None:
    statements = migrations._split(SQLITE)
    assert len(statements) == 3  # the closing comment is no statement
    assert statements[0].endswith("seen INTEGER NOT NULL DEFAULT 0);")
    assert statements[1].endswith('CREATE TABLE "odd;name" (x TEXT);')
    assert statements[2].startswith("CREATE TRIGGER") and statements[2].endswith("END;")


def test_an_unfinished_statement_is_refused() -> None:
    with pytest.raises(ValueError, match="unfinished"):
        migrations._split("CREATE TABLE a (x TEXT);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1;")
