"""A first run that proves the promise: the simulator's times are real, its default center is calm,
a finished call read from the API is never undone by an older webhook snapshot, backfilled calls'
recordings are archived, and `hookline demo` survives an outage with every call intact."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest

from hookline.providers.aircall.projections import AircallProjections
from hookline.providers.aircall.recordings import RecordingRequests
from hookline.providers.aircall.synced import synced_event
from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import FakeAircallState
from hookline.testing.aircall.samples import make_call, make_number, make_user
from hookline.testing.aircall.simulator import Emitted, Simulator, Traffic
from tests.providers.aircall.callcenter import envelope, stored
from tests.support import ROOT, base_env, free_port

# Several processes or long waits: not in `./scripts/test --fast`.
pytestmark = pytest.mark.slow

# ------------------------------------------------------------------------------------- the clock


def test_live_timestamps_are_real_time_and_speed_compresses_the_day() -> None:
    """At speed 60 a company minute lasts a second: many calls in 3 s, none stamped in the future."""
    emitted: list[Emitted] = []
    state = FakeAircallState()
    state.add_account("sim")

    async def scenario() -> tuple[float, float]:
        sim = Simulator(state, seed=3, agents=25, calls_per_minute=8, speed=60, on_emit=emitted.append)
        await asyncio.sleep(1.0)  # made a while before it starts: its times must not lag either
        began = time.time()
        await sim.start()
        await asyncio.sleep(3.0)
        await sim.close()
        return began, time.time()

    began, ended = asyncio.run(scenario())
    stamps = [e.timestamp for e in emitted]
    assert stamps and min(stamps) >= int(began) - 1 and max(stamps) <= ended
    calls = [c for c in state.records("calls", account="sim")]
    assert len(calls) > 10  # 8 calls per company minute, ~2.5 company minutes after the opening
    for call in calls:
        assert int(began) - 1 <= call["started_at"] <= ended  # the API's records are real time too
        if call["ended_at"] is not None:
            assert call["ended_at"] <= ended


def test_the_default_center_answers_most_inbound_calls() -> None:
    state = FakeAircallState()
    state.add_account("sim")
    start = 1_750_000_000.0
    traffic = Traffic(state, account="sim", rng=random.Random(11), start=start)  # the defaults
    traffic.advance_to(start + 2 * 3600)
    inbound = [c for i in traffic.call_ids if (c := state.get_call(i)) and c["direction"] == "inbound"
               and c["status"] == "done"]
    answered = sum(1 for c in inbound if c["answered_at"])
    assert len(inbound) > 500
    assert 0.80 <= answered / len(inbound) <= 0.95


# ---------------------------------------------------------------------- backfilled snapshots


def _synced(event_id: int, record: dict[str, object], fetched_at: float) -> tuple[int, dict[str, object]]:
    incoming = synced_event("acme", "calls", record, fetched_at)
    return event_id, msgspec.json.decode(incoming.body)


def test_a_finished_call_read_from_the_api_beats_older_webhook_snapshots(db: Database) -> None:
    """hookline's clock behind Aircall's: the read is stamped earlier than the webhooks it follows."""
    rng = random.Random(4)
    ts = 1_750_000_000
    user, number = make_user(rng, 1), make_number(rng, 2)
    base = make_call(random.Random(1), 7, user=user, number=number, contact=None, status="answered", started_at=ts)
    answered = dict(base, answered_at=ts + 10)
    done = dict(answered, status="done", ended_at=ts + 120, duration=120)
    events = [
        (1, envelope("call.answered", ts + 10, answered)),
        (2, envelope("call.hold", ts + 100, answered)),
        (3, envelope("call.hungup", ts + 120, done)),  # the same second as ended_at: the read still wins
        _synced(4, done, fetched_at=ts + 60),  # fetched "before" the hold, by hookline's clock
    ]
    handler = AircallProjections()
    for order in (events, events[::-1]):
        with db.connection() as conn, conn.transaction():
            handler.reset(conn)
            for event_id, body in order:
                handler.apply(conn, [stored(event_id, body, origin="webhook" if event_id < 4 else "backfill")])
        with db.connection() as conn:
            row = conn.fetchone("SELECT status, ended_at, last_event FROM aircall_calls WHERE id = 7")
        assert (row[0], row[1], row[2]) == ("done", ts + 120, "call.synced")
    # A later change (a tag after the read) still wins, as any newer snapshot does.
    tagged = dict(done, tags=[{"id": 5, "name": "VIP"}])
    with db.connection() as conn, conn.transaction():
        handler.apply(conn, [stored(5, envelope("call.tagged", ts + 200, tagged))])
    with db.connection() as conn:
        assert conn.scalar("SELECT last_event FROM aircall_calls WHERE id = 7") == "call.tagged"


def test_a_call_still_under_way_when_read_loses_to_its_next_webhook(db: Database) -> None:
    rng = random.Random(5)
    ts = 1_750_000_000
    call = make_call(random.Random(2), 8, user=make_user(rng, 1), number=make_number(rng, 2), contact=None,
                     status="answered", started_at=ts)
    answered = dict(call, answered_at=ts + 5)
    hungup = dict(answered, status="done", ended_at=ts + 30, duration=30)
    handler = AircallProjections()
    with db.connection() as conn, conn.transaction():
        event_id, body = _synced(1, answered, fetched_at=ts + 30)  # read in the second it hung up
        handler.apply(conn, [stored(event_id, body, origin="backfill")])
        handler.apply(conn, [stored(2, envelope("call.hungup", ts + 30, hungup))])
    with db.connection() as conn:
        assert conn.scalar("SELECT status FROM aircall_calls WHERE id = 8") == "done"


def test_recordings_of_backfilled_calls_are_wanted(db: Database) -> None:
    rng = random.Random(6)
    ts = 1_750_000_000
    link = "http://127.0.0.1:9/media/recording/9?sig=x"
    finished = make_call(random.Random(3), 9, user=make_user(rng, 1), number=make_number(rng, 2), contact=None,
                         status="done", started_at=ts)
    finished.update(recording=link, recording_short_url=link, ended_at=ts + 60)
    under_way = dict(finished, id=10, status="answered", ended_at=None)
    handler = RecordingRequests()
    with db.connection() as conn, conn.transaction():
        handler.apply(conn, [stored(i, body, origin="backfill") for i, body in
                             (_synced(1, finished, ts + 90), _synced(2, under_way, ts + 90))])
    with db.connection() as conn:
        rows = conn.fetchall("SELECT call_id, kind, state FROM aircall_recordings ORDER BY call_id")
    assert [tuple(r) for r in rows] == [(9, "recording", "pending")]


# ---------------------------------------------------------------------------------- hookline demo


def demo(*args: str, database_url: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = base_env(database_url)
    env.pop("HOOKLINE_AIRCALL_API_URL")  # the demo points hookline at its own fake Aircall
    return subprocess.run(
        [sys.executable, "-m", "hookline", "demo", "--port", str(free_port()), "--aircall-port", str(free_port()),
         *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )


def test_demo_drill_loses_no_call(database_url: str, tmp_path: Path) -> None:
    """A short outage drill on the engine under test: the webhook is disabled, re-enabled by the
    watchdog, the gap backfilled, and every call stored as the simulator made it."""
    done = demo("--database-url", database_url, "--data-dir", str(tmp_path / "demo"), "--seed", "5",
                "--outage-at", "8", "--outage-seconds", "8", "--seconds", "28", "--json",
                database_url=database_url, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout)
    assert summary["calls_made"] > 10 and summary["calls_stored"] == summary["calls_made"]
    assert summary["calls_missing"] == 0 and summary["calls_wrong"] == 0
    assert summary["webhook_disabled"] is True and summary["webhook_reenabled"] is True
    assert summary["backfilled_events"] > 0
    assert "outage: hookline stopped" in done.stderr and "admin token:" in done.stderr
    assert (tmp_path / "demo" / "admin-token").stat().st_mode & 0o077 == 0  # only its owner reads it


def test_demo_refuses_a_drill_it_cannot_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    for args, said in (
        (("--outage-at", "10"), "needs --seconds"),
        (("--outage-at", "10", "--outage-seconds", "30", "--seconds", "20"), "must end before"),
    ):
        done = demo(*args, database_url=url, cwd=ROOT)
        assert done.returncode == 2 and said in done.stderr, done.stderr
