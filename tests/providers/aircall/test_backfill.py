"""`hookline aircall backfill` against the fake Aircall API: the 10,000 cap, reruns, resuming."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import FakeAccount
from tests.providers.aircall.conftest import FakeAircall
from tests.support import ROOT, base_env, run_cli

T0 = int(time.time()) - 3 * 86400  # calls from three days ago


def _counts(db: Database) -> dict[str, int]:
    with db.connection() as conn:
        return dict(conn.fetchall("SELECT event, count(*) FROM events GROUP BY event"))


def _summary(result: Any) -> dict[str, dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return {r["resource"]: r for r in json.loads(result.stdout)["resources"]}


def test_over_the_cap_twice_without_duplicates(
    cli: Callable[..., Any], fake_aircall: FakeAircall, acme: FakeAccount, db: Database
) -> None:
    state = fake_aircall.state

    def seed() -> None:
        state.seed_calls(10_200, start=T0)  # more than Aircall serves for one query
        state.add_call({"started_at": T0 - 10, "recording": True})  # before the window
        state.add_call({"started_at": T0 + 10_250, "recording": True})  # in it, with a signed link
        for i in range(3):
            state.add("users", {"name": f"agent {i}", "created_at": T0 + i})
        state.add("users", {"name": "old", "created_at": T0 - 100})
        state.add("contacts", {"first_name": "Ada", "created_at": T0 + 5})
        state.add("numbers", {"name": "Support", "created_at": T0 - 9999})  # numbers, teams, tags: in full
        state.add("teams", {"name": "Sales"})
        state.add_many("tags", [{"name": "vip"}, {"name": "lead"}])

    fake_aircall.call(seed)
    args = ("aircall", "backfill", "--since", str(T0), "--until", str(T0 + 20_000), "--json")
    first = _summary(cli(*args))
    assert {r: (s["fetched"], s["new"]) for r, s in first.items()} == {
        "calls": (10_201, 10_201),
        "users": (3, 3),
        "contacts": (1, 1),
        "numbers": (1, 1),
        "teams": (1, 1),
        "tags": (2, 2),
    }
    windows = {(r.query["from"], r.query["to"]) for r in fake_aircall.requests("GET", "/v1/calls")}
    assert len(windows) >= 3  # the whole window, then its halves
    assert _counts(db) == {
        "call.synced": 10_201,
        "user.synced": 3,
        "contact.synced": 1,
        "number.synced": 1,
        "team.synced": 1,
        "tag.synced": 2,
    }
    with db.connection() as conn:
        origin, body = conn.fetchone(
            "SELECT origin, body FROM events WHERE event = 'call.synced' AND resource_id = ?",
            (str(max(c["id"] for c in state.records("calls"))),),
        )
    envelope = json.loads(bytes(body))
    assert origin == "backfill" and "token" not in envelope
    assert envelope["resource"] == "call" and envelope["event"] == "call.synced"
    assert abs(envelope["timestamp"] - time.time()) < 300  # the fetch time, not the call's
    assert envelope["data"]["started_at"] == T0 + 10_250 and "sig=" in envelope["data"]["recording"]

    second = cli(*args[:-1])  # the table summary this time
    assert second.returncode == 0, second.stderr
    assert "backfill done: 10209 fetched, 0 new, 10209 already known" in second.stdout
    assert sum(_counts(db).values()) == 10_209  # re-signed recording links are not a change

    agent = next(u for u in state.records("users") if u["name"] == "agent 1")
    fake_aircall.call(lambda: state.update("users", agent["id"], {"name": "renamed"}))
    third = _summary(
        cli("aircall", "backfill", "--since", str(T0), "--until", str(T0 + 20_000), "--resources", "users", "--json")
    )
    assert third == {"users": {"resource": "users", "fetched": 3, "new": 1, "already_known": 2, "refused": 0,
        "resumed_from": None}}


def test_interrupted_run_resumes(
    cli: Callable[..., Any], fake_aircall: FakeAircall, acme: FakeAccount, db: Database, database_url: str
) -> None:
    state = fake_aircall.state
    # 60 pages, each answered after 0.3 s: the run takes 18 s and the SIGINT comes after 20 pages, in the
    # middle of a request (a rate limit of 20 a second left the run only a race to win).
    fake_aircall.call(lambda: (state.seed_calls(3_000, start=T0), setattr(state, "latency", 0.3)))
    args = ["aircall", "backfill", "--since", str(T0), "--resources", "calls", "--json"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookline", *args],
        env=base_env(database_url, fake_aircall.env()),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        # A shell's background job (`./scripts/test &`) ignores SIGINT, and so would this child.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        while len(fake_aircall.requests("GET", "/v1/calls")) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "run the same command again to resume" in stderr and "Traceback" not in stderr
    stored = _counts(db)["call.synced"]
    with db.connection() as conn:
        (position, until, done), *others = conn.fetchall(
            "SELECT position, until, done FROM aircall_backfill_checkpoints WHERE resource = 'calls'"
        )
    assert not others and not done and T0 < position < T0 + 3_000
    assert 500 <= stored < 3_000 and position <= T0 + stored  # the checkpoint never runs ahead of the log

    fake_aircall.call(lambda: setattr(state, "latency", 0.0))  # the resumed run is not held
    before = len(fake_aircall.requests("GET", "/v1/calls"))
    resumed = _summary(cli(*args))["calls"]  # no --until: the interrupted run's end is reused
    first_query = fake_aircall.requests("GET", "/v1/calls")[before].query
    assert int(first_query["from"]) == int(position) and int(first_query["to"]) >= int(until)
    assert resumed["resumed_from"] == position
    assert resumed["new"] == 3_000 - stored and resumed["fetched"] == 3_000 - (position - T0)
    assert _counts(db) == {"call.synced": 3_000}
    with db.connection() as conn:
        assert [bool(done) for (done,) in conn.fetchall("SELECT done FROM aircall_backfill_checkpoints")] == [True]


def test_bad_input_is_a_message(
    cli: Callable[..., Any], acme: FakeAccount, database_url: str, fake_aircall: FakeAircall
) -> None:
    def refuse(*args: str) -> Any:  # refused before backfill sets up logging: in-process
        return run_cli("aircall", "backfill", *args, database_url=database_url, env=fake_aircall.env())

    bad_time = refuse("--since", "yesterday-ish")
    assert bad_time.returncode == 2 and "--since: not a time" in bad_time.stderr
    for value in ("nan", "inf", "1e20"):  # parse_time took these (NaN reached SQL): out of range now
        refused = refuse("--since", value)
        assert refused.returncode == 2 and "out of range" in refused.stderr and "Traceback" not in refused.stderr
    bad_resource = refuse("--since", str(T0), "--resources", "calls,faxes")
    assert bad_resource.returncode == 2 and "unknown resource(s): faxes" in bad_resource.stderr
    backwards = cli("aircall", "backfill", "--since", str(T0), "--until", str(T0 - 1))
    assert backwards.returncode == 2 and "--until must be after --since" in backwards.stderr
