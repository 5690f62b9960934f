"""A test-only provider plugin, installed for subprocesses through a real entry point (see install()).

Its handler counts each event's committed effects in `test_effects` (inside the worker's
transaction) and logs every start and end of a run to a file (outside it), so tests can see runs
that were killed or rolled back, and whether two ever overlapped.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from hookline.pipeline.handlers import EventHandler, StoredEvent, Unprocessable
from hookline.provider import Provider
from hookline.runtime import Runtime
from hookline.store.engine import Connection
from hookline.store.migrations import MigrationSource

NAME = "testjobs"
RUNS_ENV = "TESTJOBS_RUNS"


class CountingHandler(EventHandler):
    name = "counting"
    tables = ("test_effects",)

    def __init__(self, runs: str | None) -> None:
        self.runs = runs

    def _log(self, kind: str, event_id: int) -> None:
        if self.runs:
            with open(self.runs, "a") as f:  # O_APPEND: whole lines from any number of processes
                f.write(f"{kind} {event_id} {os.getpid()} {time.time():.6f}\n")

    def _ran_before(self, event_id: int) -> bool:
        if not self.runs or not os.path.exists(self.runs):
            return False
        with open(self.runs) as f:
            return any(line.split()[:2] == ["start", str(event_id)] for line in f)

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        for ev in events:
            spec = json.loads(ev.body)
            if spec.get("unprocessable"):
                raise Unprocessable("this event says it is hopeless")
            first = not self._ran_before(ev.id)
            self._log("start", ev.id)
            if spec.get("fail"):
                raise RuntimeError(f"told to fail: {spec['fail']}")
            if first and spec.get("sleep_first"):
                time.sleep(float(spec["sleep_first"]))
            time.sleep(float(spec.get("sleep", 0)))
            conn.execute(
                "INSERT INTO test_effects (event_id, applied) VALUES (?, 1)"
                " ON CONFLICT (event_id) DO UPDATE SET applied = test_effects.applied + 1",
                (ev.id,),
            )
            self._log("end", ev.id)


class TestJobsProvider(Provider):
    name = NAME

    def migrations(self) -> MigrationSource:
        return MigrationSource(NAME, Path(__file__).parent / "plugin_migrations")

    def handlers(self, runtime: Runtime) -> list[EventHandler]:
        return [CountingHandler(os.environ.get(RUNS_ENV))]


provider = TestJobsProvider()


def install(site: Path) -> dict[str, str]:
    """Install this plugin as a distribution in `site`; returns the environment that activates it."""
    dist = site / "hookline_testjobs-0.0.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hookline-testjobs\nVersion: 0.0.0\n")
    (dist / "entry_points.txt").write_text(f"[hookline.providers]\n{NAME} = tests.pipeline.plugin:provider\n")
    root = Path(__file__).resolve().parents[2]
    return {"PYTHONPATH": os.pathsep.join([str(site), str(root)])}
