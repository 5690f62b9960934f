"""Export, purge, import, rebuild: the same tables; checksums verified; imports idempotent."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from hookline.providers.registry import providers
from hookline.retention.loop import run_pass
from hookline.retention.settings import RetentionSettings
from hookline.store import events
from hookline.store.engine import Database
from tests.providers.aircall.test_projections import tables
from tests.retention.helpers import ago, drain, event_rows, log_day
from tests.support import run_cli


@pytest.mark.parametrize("fmt", ["jsonl.gz", "parquet", "csv"])
def test_export_purge_import_rebuild_round_trip(db: Database, database_url: str, tmp_path: Path, fmt: str) -> None:
    log_day(db, 1, ago(75))
    log_day(db, 2, ago(70))
    recent = log_day(db, 3, ago(1))
    drain(database_url)
    built, logged = tables(db), event_rows(db)
    assert built["aircall_calls"] and built["aircall_call_timeline"]

    out = tmp_path / "export"
    r = run_cli("export", "events", "--since", str(int(ago(90))), "--until", str(int(ago(30))), "--format", fmt,
                "--output", str(out), database_url=database_url)
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / "events" / "manifest.json").read_text())
    assert manifest["kind"] == "events" and manifest["format"] == fmt
    assert manifest["rows"] == len(logged) - recent
    assert len(manifest["files"]) == 2 and all(f["path"].startswith("date=") for f in manifest["files"])
    assert {c["name"] for c in manifest["columns"]} >= {"id", "dedup_key", "headers", "body", "body_encoding"}
    sums = (out / "events" / "SHA256SUMS").read_text().splitlines()
    assert sorted(sums) == sorted(f"{f['sha256']}  {f['path']}" for f in manifest["files"])

    deleted = run_pass(db, RetentionSettings(events_days=30, batch_size=7, pause_seconds=0), providers())
    assert deleted["events"] == len(logged) - recent
    assert len(event_rows(db)) == recent
    r = run_cli("rebuild", "--yes", database_url=database_url)
    assert r.returncode == 0, r.stderr
    assert "retention deleted events" in r.stdout and "--from-export" in r.stdout
    assert tables(db) != built  # the purged history is gone from the projections

    r = run_cli("rebuild", "--yes", "--from-export", str(out), database_url=database_url)
    assert r.returncode == 0, r.stderr
    assert f"imported {len(logged) - recent} events (0 already stored)" in r.stdout
    assert event_rows(db) == logged
    assert tables(db) == built

    r = run_cli("import", "events", str(out / "events"), database_url=database_url)
    assert r.returncode == 0, r.stderr
    assert f"imported 0 events ({len(logged) - recent} already stored)" in r.stdout
    assert event_rows(db) == logged


def test_new_events_after_an_import_into_an_empty_database_get_new_ids(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    log_day(db, 4, ago(3))
    out = tmp_path / "export"
    assert run_cli("export", "events", "--output", str(out), database_url=database_url).returncode == 0
    with db.connection() as conn:
        conn.execute("DELETE FROM jobs")
        conn.execute("DELETE FROM events")
        conn.execute("DELETE FROM event_counts")
    assert run_cli("import", "events", str(out), database_url=database_url).returncode == 0
    top = max(r[0] for r in event_rows(db))
    with db.connection() as conn:  # /api/stats counts what the import took in (and not twice on a re-import)
        assert events.counts(conn) == (len(event_rows(db)), 0)
    assert run_cli("import", "events", str(out), database_url=database_url).returncode == 0
    with db.connection() as conn:
        assert events.counts(conn) == (len(event_rows(db)), 0)
    log_day(db, 5, ago(0))  # ids continue above the imported ones
    assert min(r[0] for r in event_rows(db) if r[0] > top) > top
    assert len(event_rows(db)) > top - 1


def test_a_corrupted_export_is_refused_and_nothing_is_imported(db: Database, database_url: str, tmp_path: Path) -> None:
    n = log_day(db, 6, ago(2))
    out = tmp_path / "export"
    assert run_cli("export", "events", "--output", str(out), database_url=database_url).returncode == 0
    with db.connection() as conn:
        conn.execute("DELETE FROM jobs")
        conn.execute("DELETE FROM events")
    manifest = json.loads((out / "events" / "manifest.json").read_text())
    part = out / "events" / manifest["files"][0]["path"]
    lines = gzip.decompress(part.read_bytes()).splitlines()
    part.write_bytes(gzip.compress(b"\n".join(lines[:-1]) + b"\n"))  # one event less
    r = run_cli("import", "events", str(out), database_url=database_url)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "checksum mismatch" in r.stderr and "Traceback" not in r.stderr
    assert event_rows(db) == []
    part.unlink()
    r = run_cli("import", "events", str(out), database_url=database_url)
    assert r.returncode == 2 and "missing" in r.stderr
    assert n > 0


def test_export_refuses_bad_input_with_exit_2(db: Database, database_url: str, tmp_path: Path) -> None:
    for args, message in (
        (("export", "events", "--since", "yesterday", "--output", str(tmp_path)), "--since"),
        (("export", "tickets", "--output", str(tmp_path)), "unknown kind"),
        (("export", "events", "--format", "xlsx", "--output", str(tmp_path)), "--format"),
        (("export", "events", "--since", "2026-02-01", "--until", "2026-01-01", "--output", str(tmp_path)), "later"),
    ):
        r = run_cli(*args, database_url=database_url)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr


def test_projections_export_by_day(db: Database, database_url: str, tmp_path: Path) -> None:
    log_day(db, 7, ago(1), calls=5)
    drain(database_url)
    with db.connection() as conn:
        started = [r[0] for r in conn.fetchall("SELECT started_at FROM aircall_calls WHERE started_at IS NOT NULL")]
    r = run_cli("export", "calls", "--format", "parquet", "--output", str(tmp_path), database_url=database_url)
    assert r.returncode == 0, r.stderr
    manifest = json.loads((tmp_path / "calls" / "manifest.json").read_text())
    assert manifest["rows"] == len(started) > 0
    import pyarrow.parquet as pq

    read = [row for f in manifest["files"] for row in pq.read_table(tmp_path / "calls" / f["path"]).to_pylist()]
    assert sorted(r["started_at"] for r in read) == sorted(started)
    for kind in ("bookings", "board-items"):
        r = run_cli("export", kind, "--format", "csv", "--output", str(tmp_path), database_url=database_url)
        assert r.returncode == 0, r.stderr
        assert json.loads((tmp_path / kind / "manifest.json").read_text())["rows"] == 0
