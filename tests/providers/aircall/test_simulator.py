"""The Aircall simulator: coherent traffic, Aircall's delivery semantics against a real `hookline serve`,
the REST API listing what the webhooks said, and the `hookline simulate aircall` command."""

from __future__ import annotations

import asyncio
import base64
import itertools
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import msgspec

from hookline.providers.aircall.accounts import AccountStore
from hookline.providers.aircall.api import AircallClient, Credentials
from hookline.providers.aircall.catalog import CATALOG
from hookline.providers.aircall.receiver import dedup_key
from hookline.providers.aircall.tokens import TokenStore
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import FakeAircallState, serve_fake_api
from hookline.testing.aircall.samples import BASE_TIMESTAMP
from hookline.testing.aircall.simulator import Emitted, Outgoing, Simulator, Traffic
from hookline.testing.aircall.simulator.calls import MISSED_CALL_REASONS
from hookline.testing.aircall.simulator.server import serve_simulator
from tests.support import ROOT, Server, base_env, free_port, run_cli, run_cli_process, serve_oauth_app

T = TypeVar("T")
START = float(BASE_TIMESTAMP)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def traffic(seed: int, *, agents: int = 10, calls_per_minute: float = 8.0) -> tuple[FakeAircallState, Traffic]:
    state = FakeAircallState()
    state.add_account("sim")
    return state, Traffic(state, account="sim", rng=random.Random(seed), start=START, agents=agents,
                          calls_per_minute=calls_per_minute)


def by_call(events: list[Emitted]) -> dict[int, list[tuple[str, int, dict[str, Any]]]]:
    calls: dict[int, list[tuple[str, int, dict[str, Any]]]] = defaultdict(list)
    for e in events:
        if e.event.startswith("call."):
            data = e.decoded()
            calls[data["id"]].append((e.event, e.timestamp, data))
    return calls


# ------------------------------------------------------------------------------------------ traffic


def test_call_lifecycles_are_coherent() -> None:
    state, sim = traffic(seed=11)
    events = sim.advance_to(START + 3600)
    sim.wind_down()
    events += sim.advance_to(START + 3 * 3600)  # every call under way runs to its end
    calls = by_call(events)
    assert len(calls) == len(sim.call_ids) > 300
    reasons: Counter[str] = Counter()
    for call_id, timeline in calls.items():
        names = [name for name, _, _ in timeline]
        stamps = [ts for _, ts, _ in timeline]
        assert names[0] == "call.created" and stamps == sorted(stamps), (call_id, names)
        assert names.count("call.hungup") == 1 and names.count("call.ended") == 1, names
        assert names.index("call.hungup") < names.index("call.ended")
        created = timeline[0][2]
        hungup_ts, hungup = next((ts, d) for n, ts, d in timeline if n == "call.hungup")
        ended_ts, ended = next((ts, d) for n, ts, d in timeline if n == "call.ended")
        assert created["status"] == "initial" and created["started_at"] == timeline[0][1]
        assert hungup["status"] == ended["status"] == "done" and hungup["ended_at"] == hungup_ts
        assert 27 <= ended_ts - hungup_ts <= 34  # ~30 s, whole seconds
        assert ended["duration"] == ended["ended_at"] - ended["started_at"] >= 0
        if ended["answered_at"] is not None:
            assert "call.answered" in names and ended["started_at"] <= ended["answered_at"] <= ended["ended_at"]
            assert ended["missed_call_reason"] is None
            assert ended["user"] is not None
        elif ended["direction"] == "inbound":
            assert ended["missed_call_reason"] in MISSED_CALL_REASONS, ended["missed_call_reason"]
            reasons[ended["missed_call_reason"]] += 1
            assert "call.answered" not in names
        else:
            assert ended["missed_call_reason"] is None  # Aircall gives reasons for inbound calls only
        if "call.voicemail_left" in names:
            assert ended["voicemail"] and ended["answered_at"] is None
        if ended["recording"]:
            assert ended["answered_at"] is not None
            expires, sig = re.search(r"expires=(\d+)&sig=(\w+)", ended["recording"]).groups()  # type: ignore[union-attr]
            state.check_media("recording", call_id, int(expires), sig)  # a link the fake API serves
        for stage in ("call.hold", "call.unhold", "call.transferred"):
            for name, _, data in timeline:
                if name == stage:
                    assert data["status"] == "answered"
        # The API's copy of the call is the last snapshot the webhooks sent.
        assert state.get_call(call_id) == timeline[-1][2]
    assert len(reasons) >= 3, reasons
    assert all(not agent.busy for agent in sim.company.agents)  # nobody is left on a phantom call

    seen = Counter(e.event for e in events)
    for name in ("call.ringing_on_agent", "call.answered", "call.hold", "call.comm_assets_generated",
                 "call.tagged", "transcription.created", "summary.created", "sentiment.created",
                 "topics.created", "action_item.created", "message.sent", "message.received",
                 "user.wut_start.v2", "contact.created", "number.created", "team.created"):
        assert seen[name] > 0, name
    assert seen["user.wut_start"] == seen["user.wut_end"] == seen["user.wut_start.v2"] == seen["user.wut_end.v2"]
    insights = [e.decoded()["call_id"] for e in events if CATALOG[e.event].family == "conversation_intelligence"]
    assert set(insights) <= set(calls)


def test_payloads_match_the_models_and_never_merge() -> None:
    _, sim = traffic(seed=5, agents=6, calls_per_minute=12)
    events = sim.advance_to(START + 1800)
    keys = set()
    for e in events:
        spec = CATALOG[e.event]
        if spec.model is not None:
            msgspec.json.decode(e.data, type=spec.model)  # raises on a wrong type
        data = e.decoded()
        keys.add(dedup_key(e.event, data.get("id"), e.timestamp, e.data, e.body("t")))
        assert START <= e.timestamp <= START + 1800
    # hookline dedups on (event, id, timestamp, data): two distinct events must never share a key.
    assert len(keys) == len(events)


def test_same_seed_same_traffic() -> None:
    def stream(seed: int) -> list[tuple[str, int, bytes]]:
        _, sim = traffic(seed=seed)
        # Media links are signed with a per-state secret and expire on the wall clock: leave them out.
        return [(e.event, e.timestamp, re.sub(rb"expires=\d+&sig=\w+", b"", e.data))
                for e in sim.advance_to(START + 900)]

    assert stream(3) == stream(3)
    assert stream(3) != stream(4)


# ------------------------------------------------------------------------------------------ delivery


def hooked(
    db: Database, start_server: Callable[..., Server], events: list[str] | None = None
) -> tuple[Server, FakeAircallState, dict[str, Any]]:
    """A fake Aircall account with one webhook to a `hookline serve` that already knows its token."""
    port = free_port()
    state = FakeAircallState()
    state.add_account("sim", rate_limit=100_000)
    webhook = state.create_webhook(f"http://127.0.0.1:{port}/aircall/webhook", events, account="sim")
    TokenStore(db).add(webhook["token"], "sim", webhook["webhook_id"])
    return start_server(port=port), state, webhook


def stored(db: Database) -> tuple[list[tuple[str, str | None, float, int]], set[str]]:
    with db.connection() as conn:
        rows = conn.fetchall("SELECT event, resource_id, occurred_at, duplicate_count FROM events ORDER BY id")
    calls = {r[1] for r in rows if r[0].startswith("call.")}
    return [tuple(r) for r in rows], calls


def keys_of(bodies: list[bytes]) -> set[str]:
    keys = set()
    for body in bodies:
        env = msgspec.json.decode(body)
        data = msgspec.json.encode(env["data"])
        keys.add(dedup_key(env["event"], env["data"].get("id"), env["timestamp"], data, body))
    return keys


def test_every_delivered_event_is_stored(db: Database, start_server: Callable[..., Server]) -> None:
    _, state, _ = hooked(db, start_server)
    delivered: list[bytes] = []

    def collect(item: Outgoing, ok: bool) -> None:
        if ok:
            delivered.append(item.body)

    async def scenario() -> Simulator:
        async with Simulator(state, speed=1, seed=7, agents=5, calls_per_minute=20, start_at=START,
                             on_result=collect) as sim:
            await sim.run_for(300, step=5)
            await sim.drain()
            return sim

    sim = run(scenario())
    stats = sim.stats()
    assert stats["failed"] == 0 and stats["delivered"] == len(delivered) == stats["events_generated"] > 300
    rows, stored_calls = stored(db)
    assert len(rows) == len(keys_of(delivered))
    assert stored_calls == {str(i) for i in sim.call_ids}
    assert sum(r[3] for r in rows) == 0  # nothing was sent twice


def test_duplicates_and_reordering_are_absorbed(db: Database, start_server: Callable[..., Server]) -> None:
    subscribed = ["call.created", "call.hungup", "call.ended", "user.opened.v2", "contact.created"]
    _, state, _ = hooked(db, start_server, subscribed)
    delivered: list[bytes] = []

    async def scenario() -> Simulator:
        async with Simulator(state, speed=1, seed=8, agents=5, calls_per_minute=20, start_at=START, duplicate_rate=0.3,
                             reorder_rate=0.3, concurrency=1,
                             on_result=lambda item, ok: delivered.append(item.body) if ok else None) as sim:
            await sim.run_for(240)
            await sim.drain()
            return sim

    sim = run(scenario())
    stats = sim.stats()
    assert stats["duplicates_sent"] > 0 and stats["reordered"] > 0 and stats["failed"] == 0
    rows, stored_calls = stored(db)
    assert len(rows) == len(keys_of(delivered)) == stats["delivered"]  # each event once, however often sent
    assert sum(r[3] for r in rows) == stats["duplicates_sent"]
    assert stored_calls == {str(i) for i in sim.call_ids}
    # Arrival order (the log's ids) is not the order things happened in.
    times = [r[2] for r in rows]
    assert any(later < earlier for earlier, later in itertools.pairwise(times))


def test_receiver_down_disables_the_webhook(db: Database, start_server: Callable[..., Server]) -> None:
    server, state, webhook = hooked(db, start_server)
    hook_id = webhook["webhook_id"]

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], Simulator]:
        async with Simulator(state, speed=1, seed=9, agents=5, calls_per_minute=20, start_at=START, disable_after=10,
                             concurrency=2) as sim:
            await sim.run_for(120, step=5)
            before = sim.stats()
            server.stop()
            await sim.run_for(600, step=5)  # new events fail; retries too, every 30 s, 60 s...
            disabled = sim.stats()
            await sim.run_for(600)
            return before, disabled, sim

    before, disabled, sim = run(scenario())
    after = sim.stats()
    assert before["delivered"] > 0 and before["failed"] == 0
    assert state.webhook(hook_id)["active"] is False
    assert disabled["disabled"] == 1 and disabled["failed"] >= 10 and disabled["dropped"] > 0
    # While inactive, nothing is sent to it and nothing waits for it: only a backfill can repair the gap.
    assert after["attempts"] == disabled["attempts"] and after["pending"] == 0
    assert after["events_generated"] > disabled["events_generated"]
    _, stored_calls = stored(db)
    assert stored_calls < {str(i) for i in sim.call_ids}

    # Receiver back, webhook re-enabled: new events flow again, the gap stays.
    start_server(port=server.port)
    state.set_webhook_active(hook_id, True)
    gap = {str(i) for i in sim.call_ids} - stored_calls

    async def resume() -> None:
        async with sim:
            await sim.run_for(120, step=5)

    run(resume())
    assert sim.stats()["delivered"] > after["delivered"] and state.webhook(hook_id)["active"] is True
    rows, now_stored = stored(db)
    assert now_stored > stored_calls
    # Calls of the gap may show up through their later events; their call.created never comes back.
    created = {r[1] for r in rows if r[0] == "call.created"}
    assert gap and not gap & created


def test_watchdog_repairs_what_a_disabled_webhook_missed(
    db: Database, database_url: str, start_server: Callable[..., Server]
) -> None:
    """End to end: traffic, the receiver down until the simulator disables the webhook, the receiver
    back, `aircall watchdog --once` re-enables it and backfills the gap; then every call the simulator
    made is in the log, and no event is stored twice."""
    server, state, webhook = hooked(db, start_server)
    hook_id = webhook["webhook_id"]
    account = state.accounts["sim"]
    AccountStore(db, SecretBox(None)).add("sim", api_id=account.api_id, api_token=account.api_token)
    # Simulated time starts in the past so the whole run lies before the watchdog's `now`.
    start_at = float(int(time.time()) - 2000)

    async def scenario() -> tuple[Simulator, subprocess.CompletedProcess[str], set[int]]:
        runner, api_url = await serve_fake_api(state)
        try:
            async with Simulator(state, speed=1, seed=11, agents=5, calls_per_minute=20, start_at=start_at,
                                 disable_after=10, concurrency=2) as sim:
                await sim.run_for(120, step=5)
                server.stop()
                await sim.run_for(900, step=5)
                assert state.webhook(hook_id)["active"] is False
                missed = set(sim.call_ids)
                start_server(port=server.port, env={"HOOKLINE_AIRCALL_WATCHDOG_INTERVAL": "0"})  # the CLI's turn
                env = {
                    "HOOKLINE_AIRCALL_API_URL": api_url,
                    "HOOKLINE_PUBLIC_URL": f"http://127.0.0.1:{server.port}",
                    # The window opens before the last webhook event (received at wall-clock time),
                    # far enough back to cover the simulated gap.
                    "HOOKLINE_AIRCALL_BACKFILL_MARGIN": "3600",
                }
                watchdog = await asyncio.to_thread(
                    run_cli_process, "aircall", "watchdog", "--once", database_url=database_url, env=env
                )
                await sim.run_for(120, step=5)
                await sim.drain()
                return sim, watchdog, missed
        finally:
            await runner.cleanup()

    sim, watchdog, during_gap = run(scenario())
    assert watchdog.returncode == 0, watchdog.stderr
    assert f"re-enabled webhook {hook_id} of account sim" in watchdog.stdout
    assert state.webhook(hook_id)["active"] is True
    stats = sim.stats()
    assert stats["disabled"] == 1 and stats["dropped"] > 0

    with db.connection() as conn:
        rows = conn.fetchall(
            "SELECT event, resource_id, origin, duplicate_count FROM events WHERE event LIKE 'call.%'"
        )
    webhook_calls = {r[1] for r in rows if r[2] == "webhook"}
    synced = [r[1] for r in rows if r[0] == "call.synced"]
    every_call = {str(i) for i in sim.call_ids}
    assert during_gap and {str(i) for i in during_gap} - webhook_calls  # webhooks alone left a gap
    assert {r[1] for r in rows} == every_call  # the backfill filled it: every call, by id
    assert len(synced) == len(set(synced))  # each call synced once
    assert all(r[3] == 0 for r in rows)  # and no event stored twice


def test_failed_deliveries_are_retried_with_backoff() -> None:
    """A receiver that answers 503 five times, then too slowly three times, then normally."""
    from aiohttp import web

    answered: list[bytes] = []
    attempts: dict[bytes, list[float]] = defaultdict(list)

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        seen = sum(len(v) for v in attempts.values())
        attempts[body].append(sim.now())
        if seen < 5:
            return web.Response(status=503)
        if seen < 8:
            await asyncio.sleep(0.5)  # past the 0.2 s timeout of this test
        answered.append(body)
        return web.json_response({})

    async def scenario() -> None:
        app = web.Application()
        app.router.add_post("/hook", receive)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        state.create_webhook(f"http://127.0.0.1:{port}/hook", ["call.created", "call.ended"], account="sim")
        try:
            async with sim:
                await sim.run_for(300, step=5)
                await sim.drain()
        finally:
            await runner.cleanup()

    state = FakeAircallState()
    state.add_account("sim")
    emitted: list[Emitted] = []
    sim = Simulator(state, speed=1, seed=4, agents=5, calls_per_minute=10, start_at=START, timeout=0.2,
                    disable_after=10, on_emit=emitted.append)
    run(scenario())
    stats = sim.stats()
    assert stats["failed"] == 8 and stats["retried"] >= 8 and stats["disabled"] == 0 and stats["pending"] == 0
    subscribed = [e for e in emitted if e.event in ("call.created", "call.ended")]
    assert stats["delivered"] == len({*answered}) == len(subscribed) > 40  # every one, in the end
    retried = [times for times in attempts.values() if len(times) > 1]
    assert retried and all(later - first >= 30 for first, later, *_ in retried)  # the first retry: 30 s on


# ------------------------------------------------------------------------------------------ REST API


def test_the_api_lists_every_call_the_simulator_made() -> None:
    async def scenario() -> None:
        state = FakeAircallState()
        account = state.add_account("sim", rate_limit=100_000)
        sim = Simulator(state, speed=1, seed=12, agents=8, calls_per_minute=15, start_at=START)
        runner, base_url = await serve_simulator(sim)
        try:
            await sim.run_for(900)
            creds = Credentials.basic(account.api_id, account.api_token, account="sim")
            async with AircallClient(base_url, creds) as api:
                listed = [c async for c in api.list_calls(since=START, until=sim.now() + 1)]
                assert sorted(c["id"] for c in listed) == sorted(sim.call_ids)  # none missing, none extra
                assert [c["started_at"] for c in listed] == sorted(c["started_at"] for c in listed)
                finished = [c for c in listed if c["status"] == "done"]
                assert len(finished) > 100
                fresh = ("recording", "recording_short_url", "voicemail", "voicemail_short_url")  # re-signed
                for call in finished[:20]:
                    one = await api.get_call(call["id"])
                    assert {k: v for k, v in call.items() if k not in fresh} == {
                        k: v for k, v in one.items() if k not in fresh
                    }
                recorded = next(c for c in finished if c["recording"])
                users = [u async for u in api.list_users(since=0)]
                assert len(users) == 8 and all(u["availability_status"] for u in users)
                assert len([n async for n in api.list_numbers()]) == len(sim.traffic.company.numbers)
            async with httpx.AsyncClient() as http:
                audio = await http.get(recorded["recording"])
                assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
                page = (await http.get(base_url + "/simulator/calls")).json()
                assert page == {"count": len(sim.call_ids), "calls": sim.call_ids}
                stats = (await http.get(base_url + "/simulator/stats")).json()
                assert stats["calls"] == len(sim.call_ids) and stats["seed"] == 12
        finally:
            await sim.close()
            await runner.cleanup()

    run(scenario())


def test_actions_on_simulated_calls_are_counted_and_shown_on_the_call() -> None:
    async def scenario() -> None:
        state = FakeAircallState()
        account = state.add_account("sim", rate_limit=100_000)
        sim = Simulator(state, speed=1, seed=5, agents=4, calls_per_minute=15, start_at=START)
        runner, base_url = await serve_simulator(sim)
        try:
            await sim.run_for(300)
            call_id, other = sim.call_ids[0], sim.call_ids[1]
            number_id = next(iter(state.account("sim").data["numbers"].records))
            creds = Credentials.basic(account.api_id, account.api_token, account="sim")
            async with AircallClient(base_url, creds, max_retries=0) as api:
                card = {"contents": [{"type": "title", "text": "ACME"}, {"type": "shortText", "text": "Gold"}]}
                await api.request("POST", f"calls/{call_id}/insight_cards", json=card)
                await api.request("POST", f"calls/{call_id}/comments", json={"content": "VIP"})
                tag = (await api.request("POST", "tags", json={"name": "VIP"}))["tag"]
                await api.request("POST", f"calls/{call_id}/tags", json={"tags": [tag["id"]]})
                await api.request("POST", f"numbers/{number_id}/messages/native/send",
                                  json={"to": "+33612345678", "body": "hello"})
            async with httpx.AsyncClient() as http:
                stats = (await http.get(base_url + "/simulator/stats")).json()
                assert stats["actions"] == {"insight_cards": 1, "comments": 1, "tags": 1, "transfers": 0,
                                            "messages": 1}
                shown = (await http.get(f"{base_url}/simulator/calls/{call_id}")).json()
                assert shown["call"]["id"] == call_id and shown["insight_cards"] == [card]
                assert shown["comments"] == [{"content": "VIP"}] and shown["tags"] == [tag["id"]]
                quiet = (await http.get(f"{base_url}/simulator/calls/{other}")).json()
                assert quiet["insight_cards"] == [] and quiet["call"]["id"] == other
                missing = await http.get(f"{base_url}/simulator/calls/1")
                assert missing.status_code == 404 and missing.json()["error"] == "not_found"
                bad = await http.get(f"{base_url}/simulator/calls/abc")
                assert bad.status_code == 404
        finally:
            await sim.close()
            await runner.cleanup()

    run(scenario())


# ------------------------------------------------------------------------------------------ CLI


def test_cli_serves_the_api_with_the_printed_credentials(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookline", "simulate", "aircall", "--port", str(port), "--seed", "3", "--quiet",
         "--webhook", "http://127.0.0.1:9/nowhere", "--webhook-token", "given-token-0123456789"],
        env=base_env(f"sqlite:///{tmp_path / 'unused.sqlite3'}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        banner = []
        for line in proc.stdout:
            banner.append(line)
            if line.startswith("Stats:") or len(banner) > 40:
                break
        text = "".join(banner)
        assert f"HOOKLINE_AIRCALL_API_URL=http://127.0.0.1:{port}" in text, text
        api_id = re.search(r"API ID:\s+(\S+)", text).group(1)  # type: ignore[union-attr]
        api_token = re.search(r"API token:\s+(\S+)", text).group(1)  # type: ignore[union-attr]
        auth = "Basic " + base64.b64encode(f"{api_id}:{api_token}".encode()).decode()
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/v1/ping", headers={"Authorization": auth}).json() == {"ping": "pong"}
        assert httpx.get(base + "/v1/ping", headers={"Authorization": "Basic eDp5"}).status_code == 401
        assert httpx.get(base + "/simulator/stats").json()["seed"] == 3
        hooks = httpx.get(base + "/v1/webhooks", headers={"Authorization": auth}).json()["webhooks"]
        assert [(h["url"], h["token"]) for h in hooks] == [("http://127.0.0.1:9/nowhere", "given-token-0123456789")]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out


def test_cli_refuses_a_start_in_the_future(tmp_path: Path) -> None:
    """The simulator never sends times ahead of the wall clock; a start in the past shifts them back."""
    done = subprocess.run(
        [sys.executable, "-m", "hookline", "simulate", "aircall", "--port", str(free_port()),
         "--start", str(int(time.time()) + 3600)],
        env=base_env(f"sqlite:///{tmp_path / 'unused.sqlite3'}"), capture_output=True, text=True, timeout=30,
        cwd=ROOT,
    )
    assert done.returncode == 2 and "--start is in the future" in done.stderr, done.stderr


def test_cli_with_an_oauth_app_lets_a_partner_install_the_sim_company(
    db: Database, database_url: str, start_server: Callable[..., Server], tmp_path: Path
) -> None:
    """docs/partners.md "On localhost": the simulator registers the OAuth app it is given (the secret
    from standard input, never printed), and hookline configured as its banner says installs company sim."""
    port, secret = free_port(), "sim-client-secret-0123456789"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookline", "simulate", "aircall", "--port", str(port), "--seed", "3", "--quiet",
         "--oauth-client-id", "sim-client", "--oauth-client-secret", "-"],
        env=base_env(f"sqlite:///{tmp_path / 'unused.sqlite3'}"),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(secret + "\n")
        proc.stdin.close()
        proc.stdin = None  # communicate() below would flush it
        banner = []
        for line in proc.stdout:
            banner.append(line)
            if line.startswith("Stats:") or len(banner) > 40:
                break
        text = "".join(banner)
        base = f"http://127.0.0.1:{port}"
        configure = ["--client-id", "sim-client", "--client-secret", "-", "--authorize-url", f"{base}/oauth/authorize",
                     "--api-url", base]
        assert "hookline aircall oauth configure " + " ".join(configure) in text, text
        assert secret not in text

        def cli(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Any:
            return run_cli(*args, database_url=database_url, input=input, env=env)

        server = serve_oauth_app(start_server, cli, "aircall", configure, secret + "\n")
        with httpx.Client(follow_redirects=True, timeout=20) as browser:
            page = browser.get(server.url + "/aircall/oauth/install")
        assert page.status_code == 200, page.text
        with db.connection() as conn:
            rows = conn.fetchall("SELECT account, installed FROM oauth_installations WHERE provider = 'aircall'")
        assert len(rows) == 1 and bool(rows[0][1]), rows
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
