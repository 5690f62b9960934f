"""Forwarding fixtures: a real destination (tests/sink.py) and fast retry settings for the server."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from hookline.store.engine import Database
from tests.sink import Sink
from tests.support import ROOT, base_env

T = TypeVar("T")

# Retries in milliseconds instead of minutes, so the suite stays fast.
FAST = {
    "HOOKLINE_DELIVERY_BACKOFF_BASE_SECONDS": "0.05",
    "HOOKLINE_DELIVERY_BACKOFF_MAX_SECONDS": "0.2",
    "HOOKLINE_DELIVERY_TIMEOUT_SECONDS": "2",
    "HOOKLINE_DELIVERY_POLL_SECONDS": "0.2",
    "HOOKLINE_DELIVERY_BREAKER_COOLDOWN_SECONDS": "0.3",
}


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink().start()
    try:
        yield s
    finally:
        s.close()


def eventually(check: Callable[[], T], timeout: float = 15.0) -> T:
    """Poll `check` until it returns something truthy; returns that (or the last falsy value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def states(db: Database) -> list[tuple[str, int, int | None]]:
    """(state, attempts, last_status) of every delivery, in id order."""
    with db.connection() as conn:
        return [tuple(r) for r in conn.fetchall("SELECT state, attempts, last_status FROM deliveries ORDER BY id")]


def all_in(db: Database, state: str, n: int) -> bool:
    rows = states(db)
    return len(rows) == n and all(r[0] == state for r in rows)


@contextmanager
def worker(database_url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`hookline dispatcher`: a dispatcher in a process of its own, stopped with SIGTERM."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hookline", "dispatcher"],
            env=base_env(database_url, FAST),
            cwd=ROOT,
            stderr=out,
        )
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
