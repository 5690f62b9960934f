"""The README's "Try it on localhost" runs as written, so the walk-through cannot rot.

The section's shell blocks are run with bash from the repository's root, in order: the demo (until
Ctrl-C), the curl commands while it runs, then the break-things drill. The test only moves what a
test must: the ports and the demo's directory (HOOKLINE_DEMO_* variables, and the same values in the
commands' URLs and paths), and the drill's times, shortened. Every substitution must match the text,
so a README that changes its commands fails here instead of drifting.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import ROOT, base_env, free_port

SECTION = "## Try it on localhost"
END = "### Receiving from the real Aircall"
# The drill as written takes 3 minutes; the test keeps its shape (an outage inside the run) in 30 s.
DRILL_TIMES = {"--outage-at 40": "--outage-at 8", "--outage-seconds 60": "--outage-seconds 8",
               "--seconds 180": "--seconds 28"}


def shell_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION) : text.index(END)]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def substitute(block: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in block, f"the README no longer says {old!r}:\n{block}"
        block = block.replace(old, new)
    return block


@pytest.mark.slow  # `hookline demo`: a simulator and a `hookline serve` subprocess
def test_try_it_on_localhost_runs_as_written(tmp_path: Path) -> None:
    demo_block, curl_block, drill_block = shell_blocks()
    port, aircall_port = free_port(), free_port()
    data_dir = tmp_path / "demo"
    env = base_env(f"sqlite:///{tmp_path / 'unused.sqlite3'}")
    for name in ("HOOKLINE_DATABASE_URL", "HOOKLINE_ADMIN_TOKEN", "HOOKLINE_AIRCALL_API_URL"):
        env.pop(name)  # the demo makes its own (its SQLite, a new token, its fake Aircall)
    env.update(HOOKLINE_DEMO_PORT=str(port), HOOKLINE_DEMO_AIRCALL_PORT=str(aircall_port),
               HOOKLINE_DEMO_DIR=str(data_dir))
    places = {"127.0.0.1:8080": f"127.0.0.1:{port}", "127.0.0.1:9000": f"127.0.0.1:{aircall_port}",
              "data/demo/": f"{data_dir}/"}

    assert "hookline demo" in demo_block
    demo = subprocess.Popen(["bash", "-c", demo_block], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        token = wait_for_calls(demo, port, data_dir / "admin-token")
        done = subprocess.run(["bash", "-c", substitute(curl_block, places)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        calls, stats = json_documents(done.stdout)
        assert calls["calls"] and all(c["id"] for c in calls["calls"])
        assert stats["calls"] >= len(calls["calls"]) and stats["webhooks"][0]["active"] is True
    finally:
        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C
        out, _ = demo.communicate(timeout=90)
    assert demo.returncode == 0, out
    assert f"http://127.0.0.1:{port}/" in out and f"admin token: {token}" in out
    assert "calls made" in out and "missing 0, wrong 0" in out

    drill = substitute(drill_block, DRILL_TIMES)  # ports and directory: the HOOKLINE_DEMO_* variables
    done = subprocess.run(["bash", "-c", drill], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout)
    assert summary["calls_missing"] == 0 and summary["calls_wrong"] == 0 and summary["calls_made"] > 10
    assert summary["webhook_disabled"] and summary["webhook_reenabled"] and summary["backfilled_events"] > 0


def wait_for_calls(demo: subprocess.Popen[str], port: int, token_file: Path, timeout: float = 240) -> str:
    """The demo up (it may first make .venv) and calls stored; returns the admin token."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert demo.poll() is None, demo.stdout.read() if demo.stdout else ""
        if token_file.exists():
            token = token_file.read_text().strip()
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/api/calls?limit=3",
                                 headers={"Authorization": f"Bearer {token}"}, timeout=2)
                if page.status_code == 200 and page.json()["calls"]:
                    return token
            except httpx.HTTPError:
                pass
        time.sleep(0.5)
    raise AssertionError("the demo stored no call in time")


def json_documents(text: str) -> list[Any]:
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        value, at = decoder.raw_decode(text, at)
        found.append(value)
    return found
