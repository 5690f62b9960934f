"""The archive's claims on a real database (both engines) and several archivers at once against the
fake Aircall API: no file is downloaded twice; an OAuth account whose token is refused is uninstalled
and skipped."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from hookline.providers.aircall import recordings
from hookline.providers.aircall.accounts import AccountStore
from hookline.providers.aircall.archiver import Archiver, Hopeless, looks_like_mp3, relative_path
from hookline.providers.aircall.settings import RecordingsSettings
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import SILENT_MP3, FakeAccount
from tests.providers.aircall.conftest import FakeAircall

STARTED = 1764583200.0  # 2025-12-01T10:00:00Z


def want(db: Database, call_ids: range, kind: str = "recording") -> None:
    with db.connection() as conn, conn.transaction():
        recordings.want(conn, [("acme", i, kind, STARTED) for i in call_ids])


def states(db: Database) -> Counter[str]:
    with db.connection() as conn:
        return Counter(recordings.counts(conn))


def test_concurrent_claims_take_disjoint_rows(db: Database) -> None:
    want(db, range(1, 41))
    want(db, range(1, 41))  # idempotent
    taken: list[int] = []
    guard = threading.Lock()

    def claimer(n: int) -> None:
        with db.connection() as conn:
            while True:
                rows = recordings.claim(conn, f"t{n}:{time.monotonic_ns()}", 1, 60)
                if not rows:
                    return
                with guard:
                    taken.extend(r.id for r in rows)

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(taken) == sorted(set(taken)) and len(taken) == 40
    assert states(db)["running"] == 40


def test_leases_fences_and_release(db: Database) -> None:
    want(db, range(1, 3))
    with db.connection() as conn:
        first = recordings.claim(conn, "a", 1, lease=60)
        assert len(first) == 1 and first[0].attempts == 1 and first[0].started_at == STARTED
        # An expired lease makes the row due again: someone else takes it over (an attempt counted).
        now = time.time() + 61
        taken = recordings.claim(conn, "b", 5, lease=60, now=now)
        assert {r.id for r in taken} == {1, 2} and {r.attempts for r in taken} == {1, 2}
        # The first holder's late outcome changes nothing.
        assert not recordings.archived(conn, first[0].id, "a", path="x", size=1, sha256="0")
        assert not recordings.failed(conn, first[0].id, "a", "late", retry_at=None)
        assert recordings.release(conn, "b") == 2
        row = recordings.get(conn, first[0].id)
        assert row is not None and row["state"] == "pending" and row["attempts"] == 1
        # A row whose archiver died on its last attempt is parked, with a reason.
        recordings.claim(conn, "c", 5, lease=0.01)
        assert recordings.park_abandoned(conn, max_attempts=2, now=time.time() + 1) == 1
        parked = recordings.list_recordings(conn, state="parked")
        assert len(parked) == 1 and "archiver stopped before finishing, 2 times" in parked[0]["last_error"]
        assert recordings.retry(conn) == 1 and recordings.retry(conn) == 0


def test_two_archivers_download_each_file_once(
    db: Database, fake_aircall: FakeAircall, acme: FakeAccount, tmp_path: Path
) -> None:
    ids = range(7001, 7017)

    def seed() -> None:
        for i in ids:
            fake_aircall.state.add_call({"id": i, "started_at": int(STARTED), "recording": True}, account="acme")

    fake_aircall.call(seed)
    want(db, ids)
    cfg = RecordingsSettings(dir=tmp_path / "archive", concurrency=4, poll_seconds=0.05, backoff_seconds=0.1)
    accounts = AccountStore(db, SecretBox(None))
    archivers = [Archiver(db, accounts, cfg, api_url=fake_aircall.url, name=f"archiver-{n}") for n in (1, 2)]

    async def main() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(a.run(stop)) for a in archivers]
        deadline = time.monotonic() + 60
        while states(db)["archived"] < len(ids) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 15)

    asyncio.run(main())
    assert states(db)["archived"] == len(ids)
    served = Counter((kind, cid) for kind, cid, status in fake_aircall.call(lambda: list(fake_aircall.state.media_log))
                     if status == 200)
    assert served == Counter({("recording", i): 1 for i in ids})
    for i in ids:
        assert (tmp_path / "archive" / "acme" / "2025" / "12" / f"{i}-recording.mp3").read_bytes() == SILENT_MP3


def test_the_archiver_uninstalls_an_account_whose_token_is_refused(
    db: Database, fake_aircall: FakeAircall, tmp_path: Path
) -> None:
    from hookline.oauth import installations
    from hookline.providers.aircall.oauth_install import save_install

    box = SecretBox(None)
    account = fake_aircall.account("acme")
    fake_aircall.call(lambda: fake_aircall.state.add_call({"id": 8001, "started_at": int(time.time()),
                                                           "recording": True}, account="acme"))
    with db.connection() as conn, conn.transaction():
        save_install(conn, box, company="Acme", company_id="100", integration_id="1", access_token="revoked-token",
                     webhook_id="wh", webhook_token="t" * 32, api_url=fake_aircall.url)
        recordings.want(conn, [("acme", 8001, "recording", time.time()), ("acme", 8002, "recording", time.time())])
    assert account.oauth_token is None  # Aircall no longer knows the token: every call answers 401
    cfg = RecordingsSettings(dir=tmp_path / "archive", concurrency=1, poll_seconds=0.05, backoff_seconds=30)
    archiver = Archiver(db, AccountStore(db, box), cfg, api_url=fake_aircall.url)

    def uninstalled() -> bool:
        with db.connection() as conn:
            found = installations.get(conn, "aircall", "acme")
        return found is not None and not found.installed

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(archiver.run(stop))
        deadline = time.monotonic() + 20
        while not uninstalled() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # a few more polls: nothing more is claimed for acme
        stop.set()
        await asyncio.wait_for(task, 15)

    asyncio.run(main())
    assert uninstalled()
    with db.connection() as conn:
        first = recordings.for_call(conn, "acme", 8001)["recording"]
        other = recordings.for_call(conn, "acme", 8002)["recording"]
    # One of them was tried once (the 401); the other was never claimed: it waits for a re-install.
    assert sorted([first["attempts"], other["attempts"]]) == [0, 1]
    assert first["state"] == other["state"] == "pending"


def test_mp3_magic_and_safe_paths() -> None:
    assert looks_like_mp3(SILENT_MP3[:4]) and looks_like_mp3(b"ID3\x04")
    assert not looks_like_mp3(b"<htm") and not looks_like_mp3(b"\xff\x00") and not looks_like_mp3(b"")
    assert relative_path("acme", 12, "voicemail", STARTED) == "acme/2025/12/12-voicemail.mp3"
    for bad in ("../etc", ".hidden", "a/b", ""):
        with pytest.raises(Hopeless):
            relative_path(bad, 1, "recording", STARTED)


def test_settings_from_the_recordings_table_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hookline.providers.aircall.settings import load_recordings_settings

    config = tmp_path / "hookline.toml"
    config.write_text('[recordings]\ndir = "/srv/recordings"\nmax_attempts = 4\n')
    monkeypatch.setenv("HOOKLINE_CONFIG", str(config))
    monkeypatch.delenv("HOOKLINE_RECORDINGS_DIR", raising=False)
    cfg = load_recordings_settings()
    assert cfg.dir == Path("/srv/recordings") and cfg.max_attempts == 4
    monkeypatch.setenv("HOOKLINE_RECORDINGS_DIR", str(tmp_path / "elsewhere"))
    assert load_recordings_settings().dir == tmp_path / "elsewhere"  # the environment wins
    monkeypatch.setenv("HOOKLINE_RECORDINGS_DIR", " ")
    assert load_recordings_settings().dir is None  # blank means unset: the archive is off
