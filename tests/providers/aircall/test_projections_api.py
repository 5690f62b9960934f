"""A real server on both engines: an out-of-order stream with duplicates in, the projections out."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.providers.aircall.callcenter import call_center_day, shuffled_with_duplicates
from tests.support import Server

TOKEN = "aircall-webhook-token-proj-01"


def post_all(server: Server, bodies: list[dict[str, Any]]) -> None:
    def post(chunk: list[dict[str, Any]]) -> None:
        with server.client() as c:
            for body in chunk:
                assert c.post("/aircall/webhook", json=dict(body, token=TOKEN)).status_code == 200

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(post, [bodies[i::4] for i in range(4)]))


def wait_processed(admin: httpx.Client, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stats = admin.get("/api/stats").json()
        if stats["jobs"]["pending"] == 0 or time.monotonic() > deadline:
            return stats
        time.sleep(0.05)


def test_out_of_order_duplicates_then_the_api(db: Database, start_server) -> None:
    TokenStore(db).add(TOKEN, "acme")
    server = start_server()
    day = call_center_day(7, calls=8)
    post_all(server, shuffled_with_duplicates(day, random.Random(3), dup_rate=0.4))

    admin = server.admin()
    stats = wait_processed(admin)
    assert stats["jobs"] == {"processed": len(day), "pending": 0, "running": 0, "parked": 0}
    assert stats["events"]["received"] == len(day) and stats["events"]["duplicates"] > 0
    assert stats["lag_seconds"] == 0

    by_call: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in day:
        if e["event"].startswith("call."):
            by_call[e["data"]["id"]].append(e)
    page1 = admin.get("/api/calls", params={"limit": 5}).json()
    page2 = admin.get("/api/calls", params={"limit": 5, "cursor": page1["next_cursor"]}).json()
    calls = page1["calls"] + page2["calls"]
    assert page2["next_cursor"] is None and sorted(c["id"] for c in calls) == sorted(by_call)
    for call in calls:
        events = by_call[call["id"]]
        ended = next(e for e in events if e["event"] == "call.ended")["data"]
        assert call["status"] == "done" and call["ended_at"] == ended["ended_at"]
        assert call["duration"] == ended["duration"] and call["answered_at"] == ended["answered_at"]
        tagged = [e for e in events if e["event"] == "call.tagged"]
        assert bool(call["tags"]) == bool(tagged)

    answered = [c for c in calls if c["answered_at"] is not None]
    missed = admin.get("/api/calls", params={"missed": "true"}).json()["calls"]
    assert {c["id"] for c in missed} == {c["id"] for c in calls if c["answered_at"] is None}
    agent = answered[0]["user"]["id"]
    mine = admin.get("/api/calls", params={"user": agent, "status": "done"}).json()["calls"]
    assert mine and all(c["user"]["id"] == agent for c in mine)
    later = admin.get("/api/calls", params={"since": str(max(c["started_at"] for c in calls))}).json()["calls"]
    assert len(later) == 1

    detail = admin.get(f"/api/calls/{answered[0]['id']}").json()
    # Everything received about the call: its call.* events and its three intelligence results.
    assert len(detail["timeline"]) == len(by_call[answered[0]["id"]]) + 3
    assert [t["timestamp"] for t in detail["timeline"]] == sorted(t["timestamp"] for t in detail["timeline"])
    assert set(detail["intelligence"]) == {"transcription", "summary", "sentiment"}
    assert detail["intelligence"]["transcription"][0]["data"]["content"]["utterances"]
    assert detail["data"]["id"] == answered[0]["id"]

    agents = admin.get("/api/agents").json()["agents"]
    assert len(agents) == 3 and all(a["connected"] is False and a["last_seen"] for a in agents)
    assert all(a["current_call_id"] is None for a in agents)  # every call is done
    contacts = admin.get("/api/contacts").json()["contacts"]
    deleted = {e["data"]["id"] for e in day if e["event"] == "contact.deleted"}
    assert {c["id"] for c in contacts}.isdisjoint(deleted)
    every = admin.get("/api/contacts", params={"include_deleted": "true"}).json()["contacts"]
    assert {c["id"] for c in every if c["deleted"]} == deleted
    numbers = admin.get("/api/numbers").json()["numbers"]
    assert len(numbers) == 2 and all(n["open"] is False for n in numbers)
    messages = admin.get("/api/messages", params={"limit": 2}).json()
    rest = admin.get("/api/messages", params={"cursor": messages["next_cursor"]}).json()["messages"]
    assert len(messages["messages"]) + len(rest) == 3
    assert all(m["status"] == "delivered" for m in messages["messages"] + rest)


def test_bad_queries_are_400_not_500(db: Database, server: Server) -> None:
    admin = server.admin()
    for path, params in [
        ("/api/calls", {"limit": "abc"}),
        ("/api/calls", {"limit": "0"}),
        ("/api/calls", {"missed": "maybe"}),
        ("/api/calls", {"since": "yesterday-ish"}),
        ("/api/calls", {"user": "bob"}),
        ("/api/calls", {"cursor": "-4"}),
        ("/api/agents", {"include_deleted": "perhaps"}),
        ("/api/messages", {"cursor": "garbage"}),
        ("/api/messages", {"direction": "sideways"}),
        ("/api/jobs", {"state": "sleeping"}),
        ("/api/calls/abc", {}),
        ("/api/jobs/abc", {}),
    ]:
        r = admin.get(path, params=params)
        assert r.status_code == 400, (path, params, r.text)
        assert r.json()["error"] in ("invalid_query", "invalid_id")
    assert admin.get("/api/calls/123456").status_code == 404
    assert admin.post("/api/jobs/99/retry").status_code == 404
    assert server.client().get("/api/calls").status_code == 401


def test_serve_no_worker_leaves_work_to_a_worker_process(db: Database, database_url: str, start_server) -> None:
    import signal
    import subprocess
    import sys

    from tests.support import ROOT, base_env

    TokenStore(db).add(TOKEN, "acme")
    server = start_server(args=("--no-worker",))
    day = [e for e in call_center_day(3, calls=2) if e["event"].startswith("call.")]
    post_all(server, day)
    admin = server.admin()
    time.sleep(1.5)  # more than a poll interval: nobody is processing
    stats = admin.get("/api/stats").json()
    assert stats["jobs"]["pending"] == len(day) and stats["lag_seconds"] > 1.0
    assert admin.get("/api/calls").json()["calls"] == []

    worker = subprocess.Popen([sys.executable, "-m", "hookline", "worker"], env=base_env(database_url),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        assert wait_processed(admin)["jobs"]["pending"] == 0
        assert len(admin.get("/api/calls").json()["calls"]) == 2
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(15) == 0


def test_simulated_call_center_through_webhooks_matches_the_simulators_calls(
    db: Database, start_server
) -> None:
    """The simulator's traffic (duplicates, reordering) into `serve`: each projected call equals the
    call as the (fake) Aircall holds it at the end."""
    import asyncio

    from hookline.testing.aircall.fake_api import FakeAircallState
    from hookline.testing.aircall.samples import BASE_TIMESTAMP
    from hookline.testing.aircall.simulator import Simulator
    from tests.support import free_port

    port = free_port()
    state = FakeAircallState()
    state.add_account("sim", rate_limit=100_000)
    webhook = state.create_webhook(f"http://127.0.0.1:{port}/aircall/webhook", None, account="sim")
    TokenStore(db).add(webhook["token"], "sim", webhook["webhook_id"])
    server = start_server(port=port)

    async def scenario() -> list[int]:
        async with Simulator(state, speed=1, seed=5, agents=5, calls_per_minute=20, start_at=float(BASE_TIMESTAMP),
                             duplicate_rate=0.3, reorder_rate=0.3, concurrency=4) as sim:
            await sim.run_for(600, step=5)
            await sim.drain()
            assert sim.stats()["duplicates_sent"] > 0 and sim.stats()["reordered"] > 0
            return list(sim.call_ids)

    call_ids = asyncio.run(scenario())
    admin = server.admin()
    assert wait_processed(admin)["jobs"]["parked"] == 0
    projected = {}
    cursor = None
    while True:
        page = admin.get("/api/calls", params={"limit": 500, **({"cursor": cursor} if cursor else {})}).json()
        projected.update({c["id"]: c for c in page["calls"]})
        if not (cursor := page["next_cursor"]):
            break
    assert sorted(projected) == sorted(call_ids) and len(call_ids) > 100
    fields = ("status", "direction", "started_at", "answered_at", "ended_at", "duration", "missed_call_reason",
              "archived")
    mismatched = []
    for call_id in call_ids:
        truth = state.get_call(call_id)
        assert truth is not None
        got = projected[call_id]
        diff = {f: (got[f], truth.get(f)) for f in fields if got[f] != truth.get(f)}
        if (got["user"] or {}).get("id") != (truth.get("user") or {}).get("id"):
            diff["user"] = (got["user"], truth.get("user"))
        if diff:
            mismatched.append((call_id, diff))
    assert not mismatched, mismatched[:5]
