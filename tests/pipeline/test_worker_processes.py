"""`hookline worker` as real processes: kill -9 mid-job, two workers sharing PostgreSQL, SIGTERM, CLI.

The test plugin (tests/pipeline/plugin.py) is installed for the subprocesses through a real entry
point; its handler counts committed effects in the database and logs every run's start and end.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hookline.pipeline.worker import Worker
from hookline.store.engine import Database
from tests.pipeline import plugin
from tests.pipeline.conftest import append, effects, job_rows, runtime_for
from tests.support import ROOT, base_env, on_engine, run_cli

# Several processes or long waits: not in `./scripts/test --fast`.
pytestmark = pytest.mark.slow

Runs = dict[int, list[tuple[str, int, float]]]


def read_runs(path: Path) -> Runs:
    runs: Runs = defaultdict(list)
    if path.exists():
        for line in path.read_text().splitlines():
            kind, event_id, pid, at = line.split()
            runs[int(event_id)].append((kind, int(pid), float(at)))
    return runs


def wait_for(check: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def start_worker(
    database_url: str, plugin_env: dict[str, str], tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(**settings: str) -> subprocess.Popen[bytes]:
        env = base_env(database_url, {**plugin_env, **{f"HOOKLINE_{k.upper()}": v for k, v in settings.items()}})
        log = (tmp_path / f"worker-{len(procs)}.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "hookline", "worker"], env=env, stdout=log,
                                stderr=subprocess.STDOUT, cwd=ROOT)
        procs.append(proc)
        return proc

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_a_killed_workers_job_is_redone_after_its_lease_and_applied_once(
    pdb: Database, start_worker, plugin_env: dict[str, str]
) -> None:
    runs_path = Path(plugin_env[plugin.RUNS_ENV])
    [slow, *quick] = append(pdb, [{"sleep_first": 60}, *({"n": i} for i in range(5))])
    first = start_worker(worker_lease_seconds="2", worker_batch="1")
    wait_for(lambda: bool(read_runs(runs_path)[slow]), what="the slow job to start")
    running = [j for j in job_rows(pdb) if j["event_id"] == slow]
    assert running[0]["state"] == "running" and running[0]["claim"]
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = time.time()

    second = start_worker(worker_lease_seconds="2", worker_batch="1")
    wait_for(lambda: len(effects(pdb)) == 6, what="every effect")
    assert effects(pdb) == {i: 1 for i in [slow, *quick]}  # the killed run left nothing behind
    starts = [r for r in read_runs(runs_path)[slow] if r[0] == "start"]
    assert [pid for _, pid, _ in starts] == [first.pid, second.pid]
    # Taken over only once the lease had lapsed (it had at least 2/3 of 2 s left at the kill).
    assert starts[1][2] - killed_at > 1.0
    assert job_rows(pdb) == []


@on_engine("postgresql")
def test_two_workers_share_postgresql_without_running_a_job_twice(
    pdb: Database, engine: str, start_worker, plugin_env: dict[str, str]
) -> None:
    runs_path = Path(plugin_env[plugin.RUNS_ENV])
    ids = append(pdb, [{"n": i, "sleep": 0.005} for i in range(400)])
    workers = [start_worker(worker_batch="10"), start_worker(worker_batch="10")]
    wait_for(lambda: len(effects(pdb)) == len(ids), what="every effect")
    assert effects(pdb) == {i: 1 for i in ids}
    runs = read_runs(runs_path)
    assert all([kind for kind, _, _ in runs[i]] == ["start", "end"] for i in ids)  # one run each, none retried
    by_pid = defaultdict(int)
    for i in ids:
        by_pid[runs[i][0][1]] += 1
    assert set(by_pid) == {w.pid for w in workers} and min(by_pid.values()) >= 40, dict(by_pid)


def test_sigterm_finishes_the_batch_in_hand(pdb: Database, start_worker, plugin_env: dict[str, str]) -> None:
    runs_path = Path(plugin_env[plugin.RUNS_ENV])
    ids = append(pdb, [{"n": i, "sleep": 0.2} for i in range(20)])
    proc = start_worker(worker_batch="5")
    wait_for(lambda: bool(read_runs(runs_path)), what="work to start")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    done = effects(pdb)
    assert len(done) == 5 and all(n == 1 for n in done.values())
    left = job_rows(pdb)
    assert {j["event_id"] for j in left} == set(ids) - set(done) and all(j["state"] == "queued" for j in left)


@on_engine("sqlite")
def test_sqlite_takes_one_worker_per_database(
    database_url: str, engine: str, pdb: Database, start_worker, tmp_path: Path
) -> None:
    first = start_worker()
    wait_for(lambda: "worker running" in (tmp_path / "worker-0.log").read_text(), what="the first worker")
    second = start_worker()
    assert second.wait(20) == 1
    said = (tmp_path / "worker-1.log").read_text()
    assert f"another worker (pid {first.pid})" in said and "Traceback" not in said, said
    assert first.poll() is None


def test_parked_jobs_via_cli(pdb: Database, database_url: str) -> None:
    [ok, bad] = append(pdb, [{"n": 1}, {"fail": "upstream said no"}])
    worker = Worker(runtime_for(database_url, worker_backoff_seconds=0, worker_max_attempts=2),
                    handlers={plugin.NAME: [plugin.CountingHandler(None)]})

    async def drain() -> None:
        while await worker.run_once():
            pass

    asyncio.run(drain())
    listed = run_cli("jobs", "list", "--parked", "--json", database_url=database_url)
    assert listed.returncode == 0, listed.stderr
    [job] = json.loads(listed.stdout)
    assert job["event_id"] == bad and job["attempts"] == 2 and "upstream said no" in job["last_error"]
    table = run_cli("jobs", "list", "--parked", database_url=database_url)
    assert str(job["id"]) in table.stdout and "upstream said no" in table.stdout

    for args, message in [
        (("jobs", "retry"), "give job ids, or --all-parked"),
        (("jobs", "retry", "999999"), "not parked jobs: 999999"),
        (("jobs", "list", "--state", "sleeping"), "--state must be one of"),
    ]:
        r = run_cli(*args, database_url=database_url)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)

    retried = run_cli("jobs", "retry", str(job["id"]), database_url=database_url)
    assert retried.returncode == 0 and "1 jobs queued again" in retried.stdout
    assert [j["state"] for j in job_rows(pdb)] == ["queued"]
    stats = json.loads(run_cli("jobs", "stats", "--json", database_url=database_url).stdout)
    assert stats["pending"] == 1 and stats["parked"] == 0 and stats["processed"] == 1
    assert effects(pdb) == {ok: 1}
