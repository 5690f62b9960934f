"""The retention loop in real processes: under a load of webhooks (all answered and stored), and
killed with SIGKILL mid-purge (no event half deleted: each goes with its deliveries, or stays)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from hookline.store.engine import Database
from tests.ingest.test_aircall_webhook import envelope, register
from tests.retention.helpers import ago, count, deliveries, destination, old_events
from tests.support import ROOT, Server, base_env

# Several processes or long waits: not in `./scripts/test --fast`.
pytestmark = pytest.mark.slow

OLD = 3000
BATCH = 50
RETENTION = {
    "HOOKLINE_RETENTION_EVENTS_DAYS": "30",
    "HOOKLINE_RETENTION_BATCH_SIZE": str(BATCH),
    "HOOKLINE_RETENTION_PAUSE_SECONDS": "0.1",
}

# Batches of exactly BATCH rows (not sized by time): a kill leaves a count of whole batches deleted.
FIXED_BATCHES = {**RETENTION, "HOOKLINE_RETENTION_BATCH_SECONDS": "0"}


def fill(db: Database) -> None:
    ids = old_events(db, OLD, ago(70))
    deliveries(db, destination(db), ids, "succeeded", ago(70), per_event=2)


def old_left(db: Database) -> int:
    return count(db, "SELECT count(*) FROM events WHERE received_at < ?", (ago(30),))


def wait_for(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def assert_whole(db: Database) -> int:
    """Every event left has both its deliveries, and no delivery lost its event; the old events left."""
    left = old_left(db)
    assert count(db, "SELECT count(*) FROM deliveries WHERE created_at < ?", (ago(30),)) == 2 * left
    assert count(db, "SELECT count(*) FROM deliveries d WHERE NOT EXISTS"
                     " (SELECT 1 FROM events e WHERE e.id = d.event_id)") == 0
    with db.connection() as conn:
        if conn.dialect == "sqlite":
            assert conn.scalar("PRAGMA integrity_check") == "ok"
    return left


@pytest.fixture
def start_worker(database_url: str, tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(procs)}.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "hookline", "worker"], env=base_env(database_url, FIXED_BATCHES),
                                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        procs.append(proc)
        return proc

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_a_worker_killed_mid_purge_leaves_no_half_deleted_event(
    db: Database, start_worker: Callable[[], subprocess.Popen[bytes]]
) -> None:
    fill(db)
    worker = start_worker()
    wait_for(lambda: old_left(db) <= OLD - 3 * BATCH)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    left = assert_whole(db)
    assert 0 < left < OLD and (OLD - left) % BATCH == 0  # whole batches only
    start_worker()  # the next pass finishes the work
    wait_for(lambda: old_left(db) == 0)
    assert assert_whole(db) == 0


def test_purge_under_a_load_of_webhooks_loses_none(db: Database, start_server: Callable[..., Server]) -> None:
    fill(db)
    register(db)
    server = start_server(env=RETENTION)
    latencies: list[float] = []

    def post(i: int) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            started = time.perf_counter()
            r = c.post("/aircall/webhook", json=envelope(call_id=10_000 + i, ts=1_763_900_000 + i))
            latencies.append(time.perf_counter() - started)
            return r

    answers = []
    assert old_left(db) > 0  # the posts start while the loop purges
    with ThreadPoolExecutor(max_workers=8) as pool:
        for wave in range(0, 400, 40):  # spread over the purge
            answers += list(pool.map(post, range(wave, wave + 40)))
            if old_left(db) == 0:
                break
    assert all(r.status_code == 200 for r in answers), {r.status_code for r in answers}
    wait_for(lambda: old_left(db) == 0)
    assert count(db, "SELECT count(*) FROM events WHERE provider = 'aircall'") == len(answers)
    assert assert_whole(db) == 0
    latencies.sort()
    print(f"\n{len(answers)} posts during the purge: p50 {latencies[len(latencies) // 2] * 1000:.1f} ms,"
          f" p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f} ms")
