"""A projection that fails on an event's values parks its job at once (issue 11, item 7): an integer
beyond 64 bits (SQLite: OverflowError; PostgreSQL: NumericValueOutOfRange), NUL in text (PostgreSQL:
DataError) are not temporary, so ten retries with backoff would only fail ten times. A lost
connection still is retried (pipeline/handlers.is_permanent). Through a real server, both engines."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import psycopg
import pytest

from hookline.pipeline.handlers import Unprocessable, is_permanent
from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.dashboard.helpers import TOKEN, CallCenter, eventually
from tests.support import Server


@pytest.fixture
def live(db: Database, start_server: Callable[..., Server]) -> Server:
    TokenStore(db).add(TOKEN, "acme")
    # Retries would be quick and many: a parked-at-once job is told apart by its single attempt.
    return start_server({"HOOKLINE_WORKER_BACKOFF_SECONDS": "30", "HOOKLINE_WORKER_MAX_ATTEMPTS": "10"})


def jobs_of(db: Database) -> dict[int, tuple[str, int, str | None]]:
    with db.connection() as conn:
        rows = conn.fetchall("SELECT event_id, state, attempts, last_error FROM jobs")
    return {int(r[0]): (str(r[1]), int(r[2]), r[3]) for r in rows}


def event_ids(live: Server) -> dict[int, int]:
    """call id -> event id"""
    with live.admin() as api:
        events = api.get("/api/events", params={"provider": "aircall"}).json()["events"]
    return {int(e["resource_id"]): int(e["id"]) for e in events}


def test_overflow_and_nul_in_a_projection_park_the_job_at_once(db: Database, live: Server) -> None:
    calls = CallCenter()
    overflow = calls.call_event("call.created", 9301)
    overflow["data"]["number"] = {**overflow["data"]["number"], "id": 2**70}  # number_id: a BIGINT column
    nul = calls.call_event("call.created", 9302)
    nul["data"]["raw_digits"] = "+33 1\u0000 23"
    valid = calls.call_event("call.created", 9303)
    with live.client() as c:
        for body in (overflow, nul, valid):
            assert c.post("/aircall/webhook", json=body).status_code == 200
    ids = event_ids(live)

    def settled() -> dict[int, tuple[str, int, str | None]] | None:
        found = jobs_of(db)
        return found if all(state == "parked" for state, _, _ in found.values()) and ids[9301] in found else None

    jobs = eventually(settled, 20)
    assert jobs, jobs_of(db)
    state, attempts, error = jobs[ids[9301]]
    assert (state, attempts) == ("parked", 1) and error is not None and error.startswith("unprocessable:"), jobs
    assert "Overflow" in error or "out of range" in error, error
    if db.dialect == "postgresql":  # text cannot hold NUL there; SQLite can, and projects it
        state, attempts, error = jobs[ids[9302]]
        assert (state, attempts) == ("parked", 1) and error is not None and "0x00" in error, jobs
    else:
        assert ids[9302] not in jobs
    assert ids[9303] not in jobs  # the valid one went through
    with live.admin() as api:
        assert api.get("/api/calls/9303").status_code == 200
        assert api.get("/api/calls/9302").status_code == (404 if db.dialect == "postgresql" else 200)
        parked = api.get("/api/jobs", params={"state": "parked"}).json()["jobs"]
        assert {j["event_id"] for j in parked} == {e for e, (s, _, _) in jobs.items() if s == "parked"}


def test_what_counts_as_permanent(db: Database) -> None:
    """Real errors from the real drivers: data errors are permanent, a lost connection is not."""
    caught: list[BaseException] = []
    for sql, params in (("SELECT CAST(? AS BIGINT)", (2**70,)), ("SELECT CAST(? AS TEXT)", ("a\x00b",))):
        try:
            with db.connection() as conn:
                conn.fetchone(sql, params)
        except Exception as exc:
            caught.append(exc)
    assert caught and all(is_permanent(e) for e in caught), caught
    assert is_permanent(Unprocessable("x")) and is_permanent(OverflowError()) and is_permanent(ValueError())
    assert not is_permanent(psycopg.OperationalError("connection lost"))
    assert not is_permanent(sqlite3.OperationalError("database is locked")) and not is_permanent(RuntimeError())
