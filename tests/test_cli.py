"""The CLI as users run it: a subprocess, on both engines."""

from __future__ import annotations

import json
from pathlib import Path

from hookline.store.engine import Database
from tests.support import run_cli, run_cli_process


def test_token_add_list_remove(db: Database, database_url: str) -> None:
    token = "a-long-webhook-token-abcdef123456"
    added = run_cli("aircall", "token", "add", token, "--account", "acme", database_url=database_url)
    assert added.returncode == 0, added.stderr
    assert token not in added.stdout
    listed = run_cli("aircall", "token", "list", "--json", database_url=database_url)
    rows = json.loads(listed.stdout)
    assert [(r["token"], r["account"]) for r in rows] == [("a-lo…3456", "acme")]
    assert token not in listed.stdout
    removed = run_cli("aircall", "token", "remove", token, database_url=database_url)
    assert removed.returncode == 0
    again = run_cli("aircall", "token", "remove", token, database_url=database_url)
    assert again.returncode == 2 and "no such token" in again.stderr and token not in again.stderr
    assert json.loads(run_cli("aircall", "token", "list", "--json", database_url=database_url).stdout) == []


def test_errors_are_messages_not_tracebacks(db: Database, database_url: str, tmp_path: Path) -> None:
    empty = run_cli("aircall", "token", "add", "  ", "--account", "acme", database_url=database_url)
    assert empty.returncode == 2 and "Traceback" not in empty.stderr and "empty" in empty.stderr
    bad_url = run_cli("db", "upgrade", database_url="mysql://nope")
    assert bad_url.returncode == 2 and "sqlite:///" in bad_url.stderr and "Traceback" not in bad_url.stderr
    unreachable = run_cli("db", "upgrade", database_url="postgresql://u:hunter2@127.0.0.1:1/x")
    assert unreachable.returncode == 1 and "hunter2" not in unreachable.stderr and "Traceback" not in unreachable.stderr
    toml = tmp_path / "bad.toml"
    toml.write_text("port = 'eighty'\n")
    bad_cfg = run_cli("db", "status", database_url=database_url, env={"HOOKLINE_CONFIG": str(toml)})
    assert bad_cfg.returncode == 2
    assert bad_cfg.stderr == "hookline: setting HOOKLINE_PORT: must be an integer (got 'eighty')\n"
    serve_bad = run_cli("serve", "--certfile", "x.pem", database_url=database_url)
    assert serve_bad.returncode == 2 and "--keyfile" in serve_bad.stderr


def test_db_status_and_upgrade(database_url: str) -> None:
    status = run_cli("db", "status", database_url=database_url)
    assert status.returncode == 1 and "pending core 0001_event_log" in status.stdout
    up = run_cli("db", "upgrade", database_url=database_url)
    assert up.returncode == 0 and "applied core 0001_event_log" in up.stdout
    assert run_cli("db", "status", database_url=database_url).returncode == 0
    assert "0 applied" in run_cli("db", "upgrade", database_url=database_url).stdout


def test_postgres_needs_an_explicit_upgrade(database_url: str, engine: str) -> None:
    result = run_cli("aircall", "token", "list", database_url=database_url)
    if engine == "postgresql":
        assert result.returncode == 1 and "hookline db upgrade" in result.stderr
    else:
        assert result.returncode == 0  # SQLite migrates itself


def test_admin_token_generated_once_then_reset(database_url: str) -> None:
    env = {"HOOKLINE_ADMIN_TOKEN": ""}
    run_cli("db", "upgrade", database_url=database_url)
    first = run_cli("admin-token", database_url=database_url, env=env)
    assert first.returncode == 0 and first.stdout.startswith("hl_")
    second = run_cli("admin-token", database_url=database_url, env=env)
    assert second.returncode == 2 and "--reset" in second.stderr
    reset = run_cli("admin-token", "--reset", database_url=database_url, env=env)
    assert reset.returncode == 0 and reset.stdout.strip() != first.stdout.strip()


def test_catalog_lists_every_event_type(database_url: str) -> None:
    from hookline.providers.aircall.catalog import CATALOG

    out = run_cli("aircall", "catalog", "--json", database_url=database_url)
    assert out.returncode == 0
    assert {e["event"] for e in json.loads(out.stdout)} == set(CATALOG)
    doc = json.loads(run_cli("aircall", "catalog", "--asyncapi", database_url=database_url).stdout)
    assert doc["asyncapi"].startswith("3.")


def test_second_serve_on_one_sqlite_file_is_refused(engine: str, server, database_url: str) -> None:
    result = run_cli_process("serve", "--port", str(server.port), database_url=database_url, timeout=30)
    if engine == "sqlite":
        assert result.returncode == 1 and "another hookline process is serving" in result.stderr
    else:  # PostgreSQL: many processes may share one database; here the port is what is taken
        assert result.returncode == 1 and "cannot listen" in result.stderr


def test_token_add_of_another_accounts_token_needs_replace(db: Database, database_url: str) -> None:
    token = "another-accounts-webhook-token-0987"
    assert run_cli("aircall", "token", "add", token, "--account", "acme", database_url=database_url).returncode == 0
    again = run_cli("aircall", "token", "add", token, "--account", "acme", database_url=database_url)
    assert again.returncode == 0 and "updated" in again.stdout  # the same account: harmless
    taken = run_cli("aircall", "token", "add", token, "--account", "globex", database_url=database_url)
    assert taken.returncode == 2, taken.stderr
    assert "'acme'" in taken.stderr and "--replace" in taken.stderr
    assert token not in taken.stderr + taken.stdout and "Traceback" not in taken.stderr
    rows = json.loads(run_cli("aircall", "token", "list", "--json", database_url=database_url).stdout)
    assert [r["account"] for r in rows] == ["acme"]  # nothing moved
    moved = run_cli("aircall", "token", "add", token, "--account", "globex", "--replace", database_url=database_url)
    assert moved.returncode == 0, moved.stderr
    rows = json.loads(run_cli("aircall", "token", "list", "--json", database_url=database_url).stdout)
    assert [r["account"] for r in rows] == ["globex"]
