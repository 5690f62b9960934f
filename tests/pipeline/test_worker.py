"""The worker in-process: batches, retries with backoff, parking, leases and their fencing, wake-ups."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from hookline.pipeline import jobs
from hookline.pipeline.handlers import Registry
from hookline.pipeline.worker import Worker
from hookline.store.engine import Database
from tests.pipeline import plugin
from tests.pipeline.conftest import append, effects, job_rows, runtime_for
from tests.support import on_engine


def counting(runs: Path | None = None) -> Registry:
    return {plugin.NAME: [plugin.CountingHandler(str(runs) if runs else None)]}


async def drain(worker: Worker) -> int:
    total = 0
    while n := await worker.run_once():
        total += n
    return total


def test_only_new_events_get_jobs(pdb: Database) -> None:
    first = append(pdb, [{"key": "a"}, {"key": "b"}])
    again = append(pdb, [{"key": "a"}, {"key": "c"}])
    assert again[0] == first[0]  # a duplicate: same event, no second job
    assert sorted(j["event_id"] for j in job_rows(pdb)) == sorted([*first, again[1]])


def test_batches_apply_effects_once_and_delete_jobs(pdb: Database, database_url: str) -> None:
    ids = append(pdb, [{"n": i} for i in range(45)])
    worker = Worker(runtime_for(database_url, worker_batch=20), handlers=counting())
    assert asyncio.run(drain(worker)) == 45
    assert effects(pdb) == {i: 1 for i in ids}
    assert job_rows(pdb) == []


def test_a_failing_event_is_retried_then_parked_without_blocking_others(pdb: Database, database_url: str) -> None:
    ids = append(pdb, [{"n": 1}, {"fail": "boom"}, {"n": 3}, {"unprocessable": True}])
    rt = runtime_for(database_url, worker_backoff_seconds=0, worker_max_attempts=3)
    worker = Worker(rt, handlers=counting())
    asyncio.run(drain(worker))
    assert effects(pdb) == {ids[0]: 1, ids[2]: 1}
    parked = {j["event_id"]: j for j in job_rows(pdb, "parked")}
    assert set(parked) == {ids[1], ids[3]} and len(job_rows(pdb)) == 2
    assert parked[ids[1]]["attempts"] == 3 and "told to fail: boom" in parked[ids[1]]["last_error"]
    # Hopeless events are parked at once, without burning retries.
    assert parked[ids[3]]["attempts"] == 1 and parked[ids[3]]["last_error"].startswith("unprocessable")

    with pdb.connection() as conn:
        assert jobs.retry(conn, [parked[ids[1]]["id"]]) == 1
    job = next(j for j in job_rows(pdb) if j["event_id"] == ids[1])
    assert job["state"] == "queued" and job["attempts"] == 0


def test_retries_back_off(pdb: Database, database_url: str) -> None:
    append(pdb, [{"fail": "later"}])
    worker = Worker(runtime_for(database_url, worker_backoff_seconds=10), handlers=counting())
    before = time.time()
    assert asyncio.run(worker.run_once()) == 1
    [job] = job_rows(pdb)
    assert job["state"] == "queued" and job["attempts"] == 1
    assert before + 5 <= job["run_at"] <= time.time() + 10  # 10 s, jittered down to no less than half
    assert asyncio.run(worker.run_once()) == 0  # not due yet
    assert jobs.backoff_delay(4, 10, 3600) >= 40 and jobs.backoff_delay(30, 10, 60) <= 60


def test_expired_leases_are_taken_over_and_the_old_claim_is_fenced(pdb: Database, database_url: str) -> None:
    ids = append(pdb, [{"n": i} for i in range(3)])
    with pdb.connection() as conn:
        stale = jobs.claim(conn, "A", 10, lease=-1)  # a worker that died: its lease is over already
        taken = jobs.claim(conn, "B", 10, lease=30)
        assert [j.event_id for j in taken] == [j.event_id for j in stale] == ids
        assert all(j.attempts == 2 for j in taken)
        assert jobs.claim(conn, "C", 10, lease=30) == []  # B's lease holds
    worker = Worker(runtime_for(database_url), handlers=counting())
    outcome = worker._process(stale, "A")  # A wakes up and tries to finish: rolled back
    assert outcome.lost == 3 and effects(pdb) == {}
    assert worker._process(taken, "B").done == 3
    assert effects(pdb) == {i: 1 for i in ids} and job_rows(pdb) == []


def test_release_and_abandoned_jobs(pdb: Database) -> None:
    [a, b] = append(pdb, [{"n": 1}, {"n": 2}])
    with pdb.connection() as conn:
        jobs.claim(conn, "A", 1, lease=30)
        assert jobs.release(conn, "A") == 1  # shutdown: handed back, the attempt not counted
        rows = {j["event_id"]: j for j in job_rows(pdb)}
        assert rows[a]["state"] == "queued" and rows[a]["attempts"] == 0
        # A job whose worker dies every time (its lease is over at once, so it is due again at once).
        doomed = {j.event_id for n in range(3) for j in jobs.claim(conn, f"w{n}", 1, lease=-1)}
        assert len(doomed) == 1 and doomed <= {a, b}
        assert jobs.park_abandoned(conn, max_attempts=3) == 1
    parked = job_rows(pdb, "parked")
    assert [j["event_id"] for j in parked] == list(doomed)
    assert "stopped before finishing, 3 times" in parked[0]["last_error"]


def test_stop_finishes_the_batch_in_hand(pdb: Database, database_url: str, tmp_path: Path) -> None:
    runs = tmp_path / "runs.log"
    ids = append(pdb, [{"n": i, "sleep": 0.1} for i in range(12)])
    worker = Worker(runtime_for(database_url, worker_batch=4), handlers=counting(runs))

    async def scenario() -> None:
        worker.bell.bind()
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        while not runs.exists():
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    done = effects(pdb)
    assert len(done) == 4 and all(n == 1 for n in done.values())  # exactly the batch in hand
    left = job_rows(pdb)
    assert {j["event_id"] for j in left} == set(ids) - set(done) and all(j["state"] == "queued" for j in left)


def test_committer_wakes_the_worker_without_polling(db: Database, database_url: str) -> None:
    rt = runtime_for(database_url, worker_poll_seconds=30)
    seen: list[float] = []
    worker = Worker(rt, handlers={}, on_done=lambda claimed, now: seen.extend(now - j.received_at for j in claimed))

    async def scenario() -> None:
        from hookline.types import IncomingEvent

        rt.committer.start()
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(0.2)  # the worker is idle, waiting (30 s poll)
        for n in range(5):
            await rt.committer.append(
                IncomingEvent("aircall", "acme", "call.created", f"k{n}", b"{}", time.time())
            )
            await asyncio.sleep(0.05)
        deadline = time.monotonic() + 5
        while len(seen) < 5 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        stop.set()
        await task
        rt.committer.stop()

    asyncio.run(scenario())
    assert len(seen) == 5 and max(seen) < 1.0, seen


@on_engine("postgresql")
def test_notify_wakes_an_idle_worker(pdb: Database, database_url: str, engine: str) -> None:
    """On PostgreSQL the enqueue NOTIFYs: events stored through another connection (no doorbell
    rings here) are picked up at once, not at the worker's next poll (30 s)."""
    worker = Worker(runtime_for(database_url, worker_poll_seconds=30), handlers=counting())

    async def scenario() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(0.5)  # listening, idle
        started = time.monotonic()
        ids = await asyncio.to_thread(append, pdb, [{"n": 1}])
        while not effects(pdb):
            await asyncio.sleep(0.01)
            assert time.monotonic() - started < 5
        stop.set()
        await task
        assert effects(pdb) == {ids[0]: 1}
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 1.0


@on_engine("sqlite")  # PostgreSQL sends the same message through NOTIFY (tests/dashboard/test_live.py)
def test_a_change_names_its_accounts_up_to_a_limit(db: Database) -> None:
    """A filtered live stream (/live/stream?account=) knows whose change it is; a batch of more accounts
    than a NOTIFY payload should carry names none, which every stream takes as "re-read"."""
    from hookline.pipeline.changes import MAX_ACCOUNTS, ChangeFeed

    feed = ChangeFeed()

    async def run() -> list[object]:
        sub = feed.subscribe()
        with db.connection() as conn:
            feed.committed(conn, ["aircall", "aircall"], ["beta", "acme", "acme"])
            feed.committed(conn, ["monday"], [f"a{i}" for i in range(MAX_ACCOUNTS + 1)])
            feed.committed(conn, ["calendly"])
        return [await sub.get(2) for _ in range(3)]

    assert asyncio.run(run()) == [
        {"providers": ["aircall"], "accounts": ["acme", "beta"]},
        {"providers": ["monday"]},
        {"providers": ["calendly"]},
    ]
