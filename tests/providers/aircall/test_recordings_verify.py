"""`hookline aircall recordings verify`: archived files checked against their rows on both engines;
--requeue brings the missing and damaged ones back through the real archiver (a real `serve`, the
fake Aircall API), and a file is never deleted by the check."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hookline.providers.aircall.accounts import AccountStore
from hookline.providers.aircall.recordings_verify import check, file_sha256
from hookline.providers.aircall.tokens import TokenStore
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import SILENT_MP3, FakeAccount
from tests.providers.aircall.conftest import FakeAircall
from tests.providers.aircall.test_recordings import (
    TOKEN,
    add_call,
    downloads,
    ended,
    no_temp_files,
    recordings_env,
    wait_state,
)
from tests.support import Server, archived_recording, post_events

MONTH = Path("acme") / "2025" / "11"


def output(result: Any) -> str:
    return str(result.stdout) + str(result.stderr)


def row(db: Database, call_id: int, kind: str = "recording") -> dict[str, Any]:
    with db.connection() as conn:
        found = conn.fetchone(
            "SELECT state, attempts, last_error, path, size, sha256 FROM aircall_recordings"
            " WHERE call_id = ? AND kind = ?",
            (call_id, kind),
        )
    assert found is not None
    return dict(zip(("state", "attempts", "last_error", "path", "size", "sha256"), found, strict=True))


def test_verify_finds_the_missing_and_damaged_files_and_requeue_downloads_them_again(
    start_server: Callable[..., Server],
    cli: Callable[..., Any],
    fake_aircall: FakeAircall,
    acme: FakeAccount,
    db: Database,
    tmp_path: Path,
) -> None:
    TokenStore(db).add(TOKEN, "acme")
    root = tmp_path / "archive"
    env = recordings_env(fake_aircall, root)
    for call_id in (5101, 5102, 5103, 5104):
        add_call(fake_aircall, call_id)
    server = start_server(env=env)
    post_events(server, *(ended(fake_aircall, call_id) for call_id in (5101, 5102, 5103, 5104)))
    with server.admin() as admin:
        for call_id in (5101, 5102, 5103, 5104):
            wait_state(admin, call_id, "recording", "archived")
    all_ok = cli("aircall", "recordings", "verify", env=env)
    assert all_ok.returncode == 0, output(all_ok)
    assert "checked 4: 4 ok, 0 missing, 0 damaged" in all_ok.stdout

    # A disk loses one file; another is damaged in place (same size, one byte flipped); a third is cut short.
    (root / MONTH / "5101-recording.mp3").unlink()
    flipped = bytearray(SILENT_MP3)
    flipped[len(flipped) // 2] ^= 0xFF
    (root / MONTH / "5102-recording.mp3").write_bytes(bytes(flipped))
    (root / MONTH / "5104-recording.mp3").write_bytes(SILENT_MP3[:100])
    with server.admin() as admin:
        gone = admin.get("/api/calls/5101/recording")
        assert gone.status_code == 404 and gone.json()["error"] == "file_missing"

    found = cli("aircall", "recordings", "verify", "--json", env=env)
    assert found.returncode == 1, output(found)
    report = json.loads(found.stdout)
    assert {k: report[k] for k in ("checked", "ok", "missing", "damaged", "requeued")} == {
        "checked": 4, "ok": 1, "missing": 1, "damaged": 2, "requeued": 0,
    }
    problems = {p["call_id"]: p for p in report["problems"]}
    assert sorted(problems) == [5101, 5102, 5104]
    assert problems[5101]["problem"] == "missing" and problems[5101]["path"] == "acme/2025/11/5101-recording.mp3"
    assert problems[5102]["problem"] == "damaged" and "sha256" in problems[5102]["detail"]
    assert problems[5104]["problem"] == "damaged"
    assert problems[5104]["detail"] == f"100 bytes on disk, {len(SILENT_MP3)} recorded"

    table = cli("aircall", "recordings", "verify", env=env)
    assert table.returncode == 1
    assert "checked 4: 1 ok, 1 missing, 2 damaged" in table.stdout and "--requeue" in table.stdout
    assert "missing: recording" in table.stdout and "call 5101" in table.stdout and "call 5103" not in table.stdout
    # Checking changed nothing: the rows are still archived, the damaged files still there.
    assert row(db, 5102)["state"] == "archived" and row(db, 5101)["state"] == "archived"
    assert (root / MONTH / "5102-recording.mp3").read_bytes() == bytes(flipped)

    # With the archiver stopped, --requeue leaves the rows pending with a fresh budget and the reason.
    server.stop()
    requeued = cli("aircall", "recordings", "verify", "--requeue", env=env)
    assert requeued.returncode == 1, output(requeued)
    assert "3 recordings queued for download again" in requeued.stdout
    for call_id, problem in ((5101, "missing"), (5102, "damaged"), (5104, "damaged")):
        r = row(db, call_id)
        assert r["state"] == "pending" and r["attempts"] == 0 and r["path"] is None and r["sha256"] is None
        assert r["last_error"].startswith(f"verify found the archived file {problem}: ")
    assert row(db, 5103)["state"] == "archived"
    assert (root / MONTH / "5102-recording.mp3").read_bytes() == bytes(flipped)  # never deleted by verify
    nothing_left = cli("aircall", "recordings", "verify", env=env)
    assert nothing_left.returncode == 0 and "checked 1: 1 ok" in nothing_left.stdout

    # The archiver downloads them again, each with a fresh link, and replaces the damaged files.
    server = start_server(env=env)
    with server.admin() as admin:
        for call_id in (5101, 5102, 5104):
            detail = wait_state(admin, call_id, "recording", "archived")
            assert detail["archive"]["recording"]["last_error"] is None
            assert detail["archive"]["recording"]["sha256"] == hashlib.sha256(SILENT_MP3).hexdigest()
        assert admin.get("/api/calls/5101/recording").content == SILENT_MP3
    for call_id in (5101, 5102, 5103, 5104):
        assert (root / MONTH / f"{call_id}-recording.mp3").read_bytes() == SILENT_MP3
    assert downloads(fake_aircall, 5101) == [200, 200] and downloads(fake_aircall, 5104) == [200, 200]
    assert downloads(fake_aircall, 5103) == [200]  # the good one was left alone
    assert [r.path for r in fake_aircall.requests("GET")].count("/v1/calls/5102") == 2
    assert no_temp_files(root)
    again = cli("aircall", "recordings", "verify", "--json", env=env)
    assert again.returncode == 0, output(again)
    assert json.loads(again.stdout) == {
        "checked": 4, "ok": 4, "missing": 0, "damaged": 0, "problems": [], "requeued": 0,
    }


def test_verify_by_account_and_paths_outside_the_directory(
    cli: Callable[..., Any], fake_aircall: FakeAircall, db: Database, tmp_path: Path
) -> None:
    root = tmp_path / "archive"
    env = {"HOOKLINE_RECORDINGS_DIR": str(root)}
    archived_recording(db, root, "acme", 6001)
    archived_recording(db, root, "acme", 6001, "voicemail")
    archived_recording(db, root, "beta", 6002)
    (root / "beta" / "2026" / "11" / "6002-recording.mp3").unlink()
    # A row whose path would leave the directory is reported missing, never read.
    (tmp_path / "outside.mp3").write_bytes(b"ID3 outside")
    with db.connection() as conn, conn.transaction():
        conn.execute(
            "UPDATE aircall_recordings SET path = '../outside.mp3' WHERE call_id = 6001 AND kind = 'voicemail'"
        )

    acme = cli("aircall", "recordings", "verify", "--account", "acme", "--json", env=env)
    assert acme.returncode == 1, output(acme)
    report = json.loads(acme.stdout)
    assert (report["checked"], report["ok"], report["missing"]) == (2, 1, 1)
    (problem,) = report["problems"]
    assert problem["kind"] == "voicemail" and problem["detail"] == "no file ../outside.mp3 under the archive directory"
    beta = cli("aircall", "recordings", "verify", "--account", "beta", env=env)
    assert beta.returncode == 1 and "checked 1: 0 ok, 1 missing, 0 damaged" in beta.stdout
    assert "call 6001" not in beta.stdout

    with db.connection() as conn, conn.transaction():
        conn.execute("UPDATE aircall_recordings SET path = 'acme/2026/11/6001-voicemail.mp3' WHERE call_id = 6001")
    assert cli("aircall", "recordings", "verify", "--account", "acme", env=env).returncode == 0
    assert (tmp_path / "outside.mp3").exists()


def test_verify_refuses_bad_input_clearly(
    cli: Callable[..., Any], fake_aircall: FakeAircall, db: Database, tmp_path: Path
) -> None:
    root = tmp_path / "archive"
    archived_recording(db, root, "acme", 6101)

    unset = cli("aircall", "recordings", "verify", env={"HOOKLINE_RECORDINGS_DIR": ""})
    assert unset.returncode == 2 and "set HOOKLINE_RECORDINGS_DIR first" in output(unset)
    nowhere = {"HOOKLINE_RECORDINGS_DIR": str(tmp_path / "nope")}
    absent = cli("aircall", "recordings", "verify", "--requeue", env=nowhere)
    assert absent.returncode == 2 and "is not a directory: mount or restore it" in output(absent)
    assert row(db, 6101)["state"] == "archived"  # an unmounted disk requeues nothing
    unknown = cli("aircall", "recordings", "verify", "--account", "ghost", env={"HOOKLINE_RECORDINGS_DIR": str(root)})
    assert unknown.returncode == 2 and "no Aircall account named 'ghost'" in output(unknown)
    for result in (unset, absent, unknown):
        assert "Traceback" not in output(result)
    # An account with credentials and nothing archived yet is known: nothing to check, all well.
    AccountStore(db, SecretBox(None)).add("gamma", api_id="gamma-id", api_token="gamma-token")
    gamma = cli("aircall", "recordings", "verify", "--account", "gamma", env={"HOOKLINE_RECORDINGS_DIR": str(root)})
    assert gamma.returncode == 0 and "checked 0: 0 ok, 0 missing, 0 damaged" in gamma.stdout
    assert "gamma-token" not in output(gamma)


def test_check_reads_the_file_in_chunks(tmp_path: Path) -> None:
    big = tmp_path / "a" / "big.mp3"
    big.parent.mkdir()
    with big.open("wb") as f:
        for i in range(64):
            f.write(bytes([i]) * 65536)
    whole = hashlib.sha256(big.read_bytes()).hexdigest()
    assert file_sha256(big) == whole
    assert check(tmp_path, "a/big.mp3", 64 * 65536, whole) is None
    assert check(tmp_path, "a/big.mp3", 64 * 65536, "0" * 64) == (
        "damaged", f"sha256 {whole[:12]}... on disk, {'0' * 12}... recorded"
    )
    assert check(tmp_path, "a", None, None) == ("missing", "no file a under the archive directory")  # a directory
    assert check(tmp_path, None, None, None) == ("missing", "the row records no path")


def test_the_api_verifies_one_row_and_requeues_it_on_request(
    start_server: Callable[..., Server], db: Database, tmp_path: Path
) -> None:
    root = tmp_path / "archive"
    archived_recording(db, root, "acme", 6201)
    data = archived_recording(db, root, "acme", 6202)
    damaged = root / "acme" / "2026" / "11" / "6202-recording.mp3"
    damaged.write_bytes(data[:-1] + b"!")
    with db.connection() as conn:
        good_id, bad_id = (int(i) for (i,) in conn.fetchall("SELECT id FROM aircall_recordings ORDER BY call_id"))
    # No credentials for `acme`: a requeued row cannot be downloaded here, only queued.
    server = start_server(env={"HOOKLINE_RECORDINGS_DIR": str(root), "HOOKLINE_RECORDINGS_POLL_SECONDS": "30"})
    with server.admin() as admin:
        good = admin.post(f"/api/recordings/{good_id}/verify", params={"requeue": "true"})
        assert good.status_code == 200 and good.json() == {
            "id": good_id, "account": "acme", "call_id": 6201, "kind": "recording",
            "path": "acme/2026/11/6201-recording.mp3", "result": "ok", "detail": None, "requeued": False,
        }
        bad = admin.post(f"/api/recordings/{bad_id}/verify").json()
        assert bad["result"] == "damaged" and "sha256" in bad["detail"] and bad["requeued"] is False
        assert row(db, 6202)["state"] == "archived"  # checked only
        requeued = admin.post(f"/api/recordings/{bad_id}/verify", params={"requeue": "1"}).json()
        assert requeued["result"] == "damaged" and requeued["requeued"] is True
        assert row(db, 6202)["last_error"].startswith("verify found the archived file damaged: sha256")
        assert row(db, 6201)["state"] == "archived"
        again = admin.post(f"/api/recordings/{bad_id}/verify")
        assert again.status_code == 409 and again.json()["error"] == "not_archived"
        assert admin.post("/api/recordings/424242/verify").json()["error"] == "not_found"
        assert admin.post("/api/recordings/x/verify").json()["error"] == "invalid_id"
        maybe = admin.post(f"/api/recordings/{good_id}/verify", params={"requeue": "maybe"})
        assert maybe.status_code == 400 and maybe.json()["error"] == "invalid_query"
    assert damaged.read_bytes() == data[:-1] + b"!"  # never deleted
    server.stop()

    # The directory moved away (--no-worker: the archiver would create it again empty at start).
    root.rename(tmp_path / "moved")
    server = start_server(env={"HOOKLINE_RECORDINGS_DIR": str(root)}, args=("--no-worker",))
    with server.admin() as admin:
        moved = admin.post(f"/api/recordings/{good_id}/verify", params={"requeue": "true"})
        assert moved.status_code == 409 and moved.json()["error"] == "archive_unavailable"
    assert row(db, 6201)["state"] == "archived"
    server.stop()
    server = start_server(env={"HOOKLINE_RECORDINGS_DIR": ""})
    with server.admin() as admin:
        off = admin.post(f"/api/recordings/{good_id}/verify")
        assert off.status_code == 409 and off.json()["error"] == "no_archive"
