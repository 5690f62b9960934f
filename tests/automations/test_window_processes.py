"""Windows counted across two real `hookline worker` processes sharing PostgreSQL: both match batches
at once, the events of each key arrive shuffled, and the runs are exactly those of the time order.

The test plugin (tests/pipeline/plugin.py) logs which process handled each event, in the same worker
transaction as the rule matcher.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hookline.store.engine import Database
from tests.automations.conftest import apply_rules, run_rows
from tests.pipeline import plugin
from tests.pipeline.conftest import append, effects, job_rows, pdb, plugin_env
from tests.pipeline.test_worker_processes import read_runs, wait_for
from tests.support import ROOT, base_env, on_engine

__all__ = ["pdb", "plugin_env"]

pytestmark = pytest.mark.slow

RULE = f"""
[[rules]]
name = "burst"
on = ["{plugin.NAME}:test.event"]
mode = "dry-run"
window = {{ count = 3, seconds = 3, by = "data.k" }}

[[rules.steps]]
action = "alert"
title = "burst by {{{{ data.k }}}}"
"""


@pytest.fixture
def start_worker(database_url: str, plugin_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """`hookline worker` processes with the test plugin; returns each one's log file."""
    procs: list[subprocess.Popen[bytes]] = []
    # The plugin's path first, then this checkout's (PYTHONPATH of the run), before the installed one.
    path = os.pathsep.join(p for p in (plugin_env["PYTHONPATH"], os.environ.get("PYTHONPATH")) if p)

    def start(**settings: str) -> Path:
        env = base_env(database_url, {**plugin_env, "PYTHONPATH": path,
                                      **{f"HOOKLINE_{k.upper()}": v for k, v in settings.items()}})
        log = tmp_path / f"worker-{len(procs)}.log"
        procs.append(subprocess.Popen([sys.executable, "-m", "hookline", "worker"], env=env,
                                      stdout=log.open("ab"), stderr=subprocess.STDOUT, cwd=ROOT))
        return log

    yield start
    for p in procs:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@on_engine("postgresql")
def test_two_worker_processes_count_windows_as_the_time_order_does(
    pdb: Database, start_worker: Callable[..., Path], plugin_env: dict[str, str]
) -> None:
    apply_rules(pdb, RULE)
    logs = [start_worker(worker_batch="4"), start_worker(worker_batch="4")]
    wait_for(lambda: all("worker started" in log.read_text() for log in logs), what="both workers")
    t = int(time.time()) - 1000
    # 4 keys x 40 events 1 s apart, shuffled: in time order, each key's events from the 3rd on fire.
    stream = [(k, j) for k in "abcd" for j in range(40)]
    random.Random(13).shuffle(stream)
    ids = append(pdb, [{"k": k, "j": j, "timestamp": t + j, "sleep": 0.01} for k, j in stream])
    of = dict(zip(ids, stream, strict=True))
    wait_for(lambda: len(effects(pdb)) == len(ids) and not job_rows(pdb), timeout=60, what="every event")

    made = run_rows(pdb, "burst")
    assert sorted(of[r["event_id"]] for r in made) == sorted((k, j) for k in "abcd" for j in range(2, 40))
    assert all(r["window_key"] == of[r["event_id"]][0] and r["state"] == "dry-run" for r in made)
    # Both processes matched a share of the events, and no batch failed (a deadlock between their locks
    # would fail one and retry its events one by one).
    handled = read_runs(Path(plugin_env[plugin.RUNS_ENV]))
    by_pid = Counter(handled[i][0][1] for i in ids)
    assert len(by_pid) == 2 and min(by_pid.values()) >= 16, by_pid
    assert all(len(handled[i]) == 2 for i in ids)  # one start and one end: never retried
    assert not [log for log in logs if "batch failed" in log.read_text() or "deadlock" in log.read_text()]
