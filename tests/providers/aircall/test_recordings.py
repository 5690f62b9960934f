"""The recordings archive end to end: a real `hookline serve` on both engines, the fake Aircall API
(signed, expiring media links) on 127.0.0.1, files on disk."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import RECORDING_TTL, SILENT_MP3, FakeAccount
from tests.providers.aircall.conftest import FakeAircall
from tests.providers.aircall.test_projections_api import wait_processed
from tests.support import ROOT, Server, base_env, post_events

TOKEN = "aircall-webhook-token-recordings-01"
STARTED = 1762336800  # 2025-11-05T10:00:00Z


def recordings_env(fake: FakeAircall, root: Path, **extra: str) -> dict[str, str]:
    settings = {
        "HOOKLINE_RECORDINGS_DIR": str(root),
        "HOOKLINE_RECORDINGS_POLL_SECONDS": "0.1",
        "HOOKLINE_RECORDINGS_BACKOFF_SECONDS": "0.2",
        "HOOKLINE_RECORDINGS_BACKOFF_MAX_SECONDS": "0.5",
        "HOOKLINE_RECORDINGS_MAX_ATTEMPTS": "3",
        "HOOKLINE_AIRCALL_WATCHDOG_INTERVAL": "0",  # its API calls would consume the injected failures
    }
    return fake.env(**{**settings, **extra})


def add_call(fake: FakeAircall, call_id: int, *, recording: bool = True, voicemail: bool = False) -> None:
    fake.call(lambda: fake.state.add_call(
        {"id": call_id, "started_at": STARTED, "status": "done", "direction": "inbound",
         "recording": recording or None, "voicemail": voicemail or None},
        account="acme",
    ))


def ended(fake: FakeAircall, call_id: int, event: str = "call.ended", *, kinds: tuple[str, ...] = ("recording",),
          link_age: float = 0.0) -> dict[str, Any]:
    """The webhook Aircall sends, carrying the links it signed `link_age` seconds ago."""

    def links() -> dict[str, str]:
        state = fake.state
        state.advance(-link_age)
        try:
            return {kind: state.media_url(call_id, kind) for kind in kinds}
        finally:
            state.advance(link_age)

    data = {"id": call_id, "started_at": STARTED, "ended_at": STARTED + 95, "duration": 95, "status": "done",
            "direction": "inbound", **fake.call(links)}
    return {"resource": "call", "event": event, "timestamp": STARTED + 125, "token": TOKEN, "data": data}


def wait_state(admin: httpx.Client, call_id: int, kind: str, wanted: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        detail = admin.get(f"/api/calls/{call_id}").json()
        entry = (detail.get("archive") or {}).get(kind)
        if (entry and entry["state"] == wanted) or time.monotonic() > deadline:
            assert entry and entry["state"] == wanted, detail
            return detail
        time.sleep(0.05)


def downloads(fake: FakeAircall, call_id: int, kind: str = "recording") -> list[int]:
    """The statuses the fake's media host answered for this call's file."""
    return [status for k, cid, status in fake.call(lambda: list(fake.state.media_log)) if (k, cid) == (kind, call_id)]


def no_temp_files(root: Path) -> bool:
    return not [p for p in root.rglob("*") if p.name.endswith(".part")]


def test_call_ended_archives_the_recording_and_the_api_serves_it(
    start_server: Callable[..., Server], fake_aircall: FakeAircall, acme: FakeAccount, db: Database, tmp_path: Path
) -> None:
    TokenStore(db).add(TOKEN, "acme")
    root = tmp_path / "archive"
    add_call(fake_aircall, 5001)
    server = start_server(env=recordings_env(fake_aircall, root))
    post_events(server, ended(fake_aircall, 5001))

    with server.admin() as admin:
        detail = wait_state(admin, 5001, "recording", "archived")
        target = root / "acme" / "2025" / "11" / "5001-recording.mp3"
        assert target.read_bytes() == SILENT_MP3
        sha = hashlib.sha256(SILENT_MP3).hexdigest()
        assert detail["recording_archived"] is True and detail["voicemail_archived"] is False
        archive = detail["archive"]["recording"]
        assert archive["path"] == "acme/2025/11/5001-recording.mp3"
        assert archive["size"] == len(SILENT_MP3) and archive["sha256"] == sha and archive["archived_at"] > 0
        assert detail["archive"]["voicemail"] is None

        got = admin.get("/api/calls/5001/recording")
        assert got.status_code == 200 and got.headers["content-type"] == "audio/mpeg"
        assert got.content == SILENT_MP3
        part = admin.get("/api/calls/5001/recording", headers={"Range": "bytes=0-103"})
        assert part.status_code == 206 and part.content == SILENT_MP3[:104]
        missing = admin.get("/api/calls/5001/voicemail")
        assert missing.status_code == 404 and missing.json()["error"] == "not_archived"
        unknown = admin.get("/api/calls/424242/recording")
        assert unknown.status_code == 404 and unknown.json()["error"] == "not_archived"
        assert admin.get("/api/calls/x/recording").status_code == 400
        assert httpx.get(server.url + "/api/calls/5001/recording").status_code == 401  # admin only

        listed = admin.get("/api/recordings").json()
        assert listed["counts"]["archived"] == 1 and listed["recordings"][0]["call_id"] == 5001
        assert admin.get("/api/recordings", params={"state": "nope"}).status_code == 400
        metrics = admin.get("/metrics").text
    assert 'hookline_aircall_recordings_archived_total{account="acme"} 1.0' in metrics
    # The call was read again for a fresh link; the download carried no credentials and none were logged.
    assert [r.path for r in fake_aircall.requests("GET")] == ["/v1/calls/5001"]
    assert downloads(fake_aircall, 5001) == [200]
    assert acme.api_token not in server.log() and "sig=" not in server.log()
    assert no_temp_files(root)


def test_an_expired_link_in_the_webhook_is_refetched(
    start_server: Callable[..., Server], fake_aircall: FakeAircall, acme: FakeAccount, db: Database, tmp_path: Path
) -> None:
    TokenStore(db).add(TOKEN, "acme")
    root = tmp_path / "archive"
    add_call(fake_aircall, 5002, recording=False, voicemail=True)
    body = ended(fake_aircall, 5002, kinds=("voicemail",), link_age=RECORDING_TTL + 60)
    assert httpx.get(body["data"]["voicemail"]).status_code == 403  # the webhook's own link is dead
    server = start_server(env=recordings_env(fake_aircall, root))
    post_events(server, body)
    with server.admin() as admin:
        wait_state(admin, 5002, "voicemail", "archived")
        got = admin.get("/api/calls/5002/voicemail")
    assert got.status_code == 200 and got.content == SILENT_MP3
    assert (root / "acme" / "2025" / "11" / "5002-voicemail.mp3").read_bytes() == SILENT_MP3
    assert downloads(fake_aircall, 5002, "voicemail") == [403, 200]  # ours, then the archiver's fresh one


def test_failures_are_retried_then_archived(
    start_server: Callable[..., Server], fake_aircall: FakeAircall, acme: FakeAccount, db: Database, tmp_path: Path
) -> None:
    TokenStore(db).add(TOKEN, "acme")
    root = tmp_path / "archive"
    add_call(fake_aircall, 5003)

    def fail_some() -> None:
        fake_aircall.state.inject_failures(3, 503)  # the API: more than the client's own retries
        fake_aircall.state.inject_media_faults(1, 502)  # then the media host once

    fake_aircall.call(fail_some)
    server = start_server(env=recordings_env(fake_aircall, root))
    post_events(server, ended(fake_aircall, 5003))
    with server.admin() as admin:
        detail = wait_state(admin, 5003, "recording", "archived")
    assert detail["archive"]["recording"]["attempts"] == 3 and detail["archive"]["recording"]["last_error"] is None
    assert downloads(fake_aircall, 5003) == [502, 200]
    assert (root / "acme" / "2025" / "11" / "5003-recording.mp3").read_bytes() == SILENT_MP3
    assert no_temp_files(root)


def test_a_corrupt_body_is_never_archived_and_is_parked(
    start_server: Callable[..., Server],
    cli: Callable[..., Any],
    fake_aircall: FakeAircall,
    acme: FakeAccount,
    db: Database,
    tmp_path: Path,
) -> None:
    TokenStore(db).add(TOKEN, "acme")
    root = tmp_path / "archive"
    add_call(fake_aircall, 5004)

    def corrupt() -> None:
        fake_aircall.state.inject_media_faults(2, 200, b"<html>AccessDenied</html>", "text/html")
        fake_aircall.state.inject_media_faults(1, 200, b"\x00" * 300, "audio/mpeg")  # audio by name only

    fake_aircall.call(corrupt)
    env = recordings_env(fake_aircall, root)
    server = start_server(env=env)
    post_events(server, ended(fake_aircall, 5004))
    with server.admin() as admin:
        detail = wait_state(admin, 5004, "recording", "parked")
        entry = detail["archive"]["recording"]
        assert detail["recording_archived"] is False and entry["attempts"] == 3 and entry["path"] is None
        assert "is not an MP3 file" in entry["last_error"]
        parked = admin.get("/api/recordings", params={"state": "parked"}).json()["recordings"]
        assert [r["call_id"] for r in parked] == [5004]
        assert admin.get("/api/calls/5004/recording").json()["error"] == "not_archived"
    assert downloads(fake_aircall, 5004) == [200, 200, 200]
    assert not (root / "acme" / "2025" / "11" / "5004-recording.mp3").exists() and no_temp_files(root)
    assert "not audio" in server.log()  # the first two attempts said why

    listed = cli("aircall", "recordings", "list", "--failed", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["call_id"] == 5004 and row["state"] == "parked" and "MP3" in row["last_error"]
    table = cli("aircall", "recordings", "list", "--failed", env=env)
    assert table.returncode == 0 and "5004" in table.stdout
    refused = cli("aircall", "recordings", "retry", "999", env=env)
    assert refused.returncode == 2 and "not parked recordings: 999" in refused.stderr + refused.stdout
    assert cli("aircall", "recordings", "retry", env=env).returncode == 2  # ids or --all-failed

    # The media host is fixed; an operator's retry archives it.
    retried = cli("aircall", "recordings", "retry", str(row["id"]), env=env)
    assert retried.returncode == 0 and "1 recordings queued again" in retried.stdout
    with server.admin() as admin:
        detail = wait_state(admin, 5004, "recording", "archived")
    assert detail["archive"]["recording"]["attempts"] == 1
    assert (root / "acme" / "2025" / "11" / "5004-recording.mp3").read_bytes() == SILENT_MP3


def test_a_call_aircall_no_longer_has_is_parked_at_once(
    start_server: Callable[..., Server], fake_aircall: FakeAircall, acme: FakeAccount, db: Database, tmp_path: Path
) -> None:
    TokenStore(db).add(TOKEN, "acme")
    add_call(fake_aircall, 5005)
    body = ended(fake_aircall, 5005)
    fake_aircall.call(lambda: fake_aircall.state.remove("calls", 5005))
    server = start_server(env=recordings_env(fake_aircall, tmp_path / "archive"))
    post_events(server, body)
    with server.admin() as admin:
        detail = wait_state(admin, 5005, "recording", "parked")
        entry = detail["archive"]["recording"]
        assert entry["attempts"] == 1 and "Aircall has no call 5005" in entry["last_error"]
        # Parked rows can be queued again through the API too.
        assert admin.post("/api/recordings/retry").json() == {"retried": 1}
        assert admin.post("/api/recordings/999/retry").status_code == 404


def test_duplicates_and_rebuild_download_once(
    start_server: Callable[..., Server],
    cli: Callable[..., Any],
    fake_aircall: FakeAircall,
    acme: FakeAccount,
    db: Database,
    tmp_path: Path,
) -> None:
    TokenStore(db).add(TOKEN, "acme")
    root = tmp_path / "archive"
    add_call(fake_aircall, 5006, voicemail=True)
    env = recordings_env(fake_aircall, root)
    server = start_server(env=env)
    first = ended(fake_aircall, 5006, kinds=("recording", "voicemail"))
    post_events(server, first, first)  # a duplicate: the log recognises it
    with server.admin() as admin:
        wait_state(admin, 5006, "recording", "archived")
        wait_state(admin, 5006, "voicemail", "archived")
        # Aircall delivers again, with other (re-signed) links, and the assets event follows.
        post_events(server, ended(fake_aircall, 5006, kinds=("recording", "voicemail")),
             ended(fake_aircall, 5006, "call.comm_assets_generated", kinds=("recording", "voicemail")))
        assert wait_processed(admin)["jobs"]["pending"] == 0
        time.sleep(0.5)  # several archiver polls
    assert downloads(fake_aircall, 5006) == [200] and downloads(fake_aircall, 5006, "voicemail") == [200]
    before = (root / "acme" / "2025" / "11" / "5006-recording.mp3").stat().st_mtime_ns
    server.stop()

    rebuilt = cli("rebuild", "--yes", env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    server = start_server(env=env)
    with server.admin() as admin:
        time.sleep(0.5)
        detail = admin.get("/api/calls/5006").json()
        assert detail["recording_archived"] and detail["voicemail_archived"] and detail["status"] == "done"
        assert admin.get("/api/calls/5006/voicemail").content == SILENT_MP3
    assert downloads(fake_aircall, 5006) == [200] and downloads(fake_aircall, 5006, "voicemail") == [200]
    assert (root / "acme" / "2025" / "11" / "5006-recording.mp3").stat().st_mtime_ns == before
    with db.connection() as conn:
        assert conn.scalar("SELECT count(*) FROM aircall_recordings") == 2


def test_without_a_directory_nothing_is_recorded_and_sync_archives_past_calls(
    start_server: Callable[..., Server],
    cli: Callable[..., Any],
    fake_aircall: FakeAircall,
    acme: FakeAccount,
    db: Database,
    tmp_path: Path,
) -> None:
    TokenStore(db).add(TOKEN, "acme")
    root = tmp_path / "archive"
    add_call(fake_aircall, 5007)
    off = recordings_env(fake_aircall, root, HOOKLINE_RECORDINGS_DIR="")
    server = start_server(env=off)
    post_events(server, ended(fake_aircall, 5007))
    with server.admin() as admin:
        assert wait_processed(admin)["jobs"]["pending"] == 0
        detail = admin.get("/api/calls/5007").json()
        assert detail["has_recording"] and detail["recording_archived"] is False
        assert detail["archive"] == {"recording": None, "voicemail": None}
        message = admin.get("/api/calls/5007/recording").json()["message"]
        assert "HOOKLINE_RECORDINGS_DIR" in message
    server.stop()
    with db.connection() as conn:
        assert conn.scalar("SELECT count(*) FROM aircall_recordings") == 0
    assert not root.exists() and downloads(fake_aircall, 5007) == []

    refused = cli("aircall", "recordings", "sync", "--since", "2025-11-01", env=off)
    assert refused.returncode == 2 and "HOOKLINE_RECORDINGS_DIR" in refused.stderr + refused.stdout
    on = recordings_env(fake_aircall, root)
    assert cli("aircall", "recordings", "sync", "--since", "nonsense", env=on).returncode == 2
    later = cli("aircall", "recordings", "sync", "--since", "2025-11-06", env=on)
    assert later.returncode == 0 and later.stdout.startswith("0 recordings queued")
    synced = cli("aircall", "recordings", "sync", "--since", "2025-11-01", "--until", "2025-11-06", env=on)
    assert synced.returncode == 0 and synced.stdout.startswith("1 recordings queued"), synced.stdout
    again = cli("aircall", "recordings", "sync", "--since", "2025-11-01", env=on)
    assert again.stdout.startswith("0 recordings queued")
    server = start_server(env=on)
    with server.admin() as admin:
        wait_state(admin, 5007, "recording", "archived")
    assert (root / "acme" / "2025" / "11" / "5007-recording.mp3").read_bytes() == SILENT_MP3


def test_hookline_worker_runs_the_archiver(
    start_server: Callable[..., Server],
    fake_aircall: FakeAircall,
    acme: FakeAccount,
    db: Database,
    database_url: str,
    tmp_path: Path,
) -> None:
    TokenStore(db).add(TOKEN, "acme")
    root = tmp_path / "archive"
    add_call(fake_aircall, 5008)
    env = recordings_env(fake_aircall, root)
    server = start_server(env=env, args=("--no-worker",))
    post_events(server, ended(fake_aircall, 5008))
    time.sleep(0.5)
    assert downloads(fake_aircall, 5008) == []  # nothing runs the pipeline yet
    log = (tmp_path / "worker.log").open("ab")
    worker = subprocess.Popen([sys.executable, "-m", "hookline", "worker"], env=base_env(database_url, env),
                              stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        with server.admin() as admin:
            wait_state(admin, 5008, "recording", "archived")
        assert (root / "acme" / "2025" / "11" / "5008-recording.mp3").read_bytes() == SILENT_MP3
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        log.close()
    assert "recordings archiver stopped" in (tmp_path / "worker.log").read_text()
