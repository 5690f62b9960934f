"""Live updates: a committed projection reaches open streams at once, call.hungup takes the call off the
board before call.ended, and (PostgreSQL) a second serve process hears it through LISTEN/NOTIFY;
(SQLite) a serve without a worker hears a worker process through data_version."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable

from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.dashboard.helpers import TOKEN, CallCenter, EventStream, post, signed_in
from tests.support import ROOT, Server, base_env

OTHER_TOKEN = "aircall-dashboard-token-beta-0123456789"


def board(server: Server) -> str:
    with signed_in(server) as c:
        return c.get("/aircall/live/board").text


def test_a_call_appears_then_leaves_at_hangup_before_ended(dash: Server) -> None:
    cc = CallCenter(seed=11)
    with signed_in(dash) as c:
        stream = EventStream(dash, c.cookies)
        try:
            sent = time.monotonic()
            post(dash, cc.call_event("call.created", 7001, contact_name=("Ada", "Lovelace")))
            message, at = stream.next_change()
            assert message == {"providers": ["aircall"]}
            assert at - sent < 1.0  # within a second of the event
            live = c.get("/aircall/live/board").text
            assert 'data-call="7001"' in live and 'data-state="ringing"' in live and "Ada Lovelace" in live

            post(dash, cc.call_event("call.answered", 7001, agent_id=71, status="answered"))
            stream.next_change()
            assert 'data-state="answered"' in c.get("/aircall/live/board").text
            post(dash, cc.call_event("call.hold", 7001, agent_id=71, status="answered"))
            stream.next_change()
            assert 'data-state="on_hold"' in c.get("/aircall/live/board").text
            agents = c.get("/aircall/agents/board").text
            assert 'data-agent="71"' in agents and 'data-state="on_call"' in agents

            post(dash, cc.call_event("call.hungup", 7001, agent_id=71, status="done"))
            stream.next_change()
            assert 'data-call="7001"' not in c.get("/aircall/live/board").text  # call.ended has not come yet
            post(dash, cc.call_event("call.ended", 7001, agent_id=71, status="done"))
            stream.next_change()
            assert 'data-call="7001"' not in c.get("/aircall/live/board").text
        finally:
            stream.close()


def test_a_stream_of_one_account_hears_only_that_account(db: Database, dash: Server) -> None:
    """/live/stream?account=NAME (issue 15): a partner's page of one customer re-reads on that customer's
    changes only; the unfiltered stream hears both."""
    TokenStore(db).add(OTHER_TOKEN, "beta")
    cc = CallCenter(seed=12)
    with signed_in(dash) as c:
        acme, beta, every = (EventStream(dash, c.cookies, path) for path in
                             ("/live/stream?account=acme", "/live/stream?account=beta", "/live/stream"))
        try:
            post(dash, {**cc.call_event("call.created", 7101), "token": OTHER_TOKEN})  # beta's
            assert beta.next_change()[0] == {"providers": ["aircall"]}
            assert every.next_change()[0] == {"providers": ["aircall"]}
            post(dash, cc.call_event("call.created", 7102))  # acme's
            assert acme.next_change()[0] == {"providers": ["aircall"]}
            every.next_change()
            time.sleep(0.5)  # one publish reaches every stream: anything more for them would be here by now
            assert [m for m in acme.messages.queue if m[0] == "change"] == []  # beta's change never came
            assert [m for m in beta.messages.queue if m[0] == "change"] == []
        finally:
            for stream in (acme, beta, every):
                stream.close()


def test_a_server_stops_promptly_with_a_stream_open(dash: Server) -> None:
    with signed_in(dash) as c:
        stream = EventStream(dash, c.cookies)
        started = time.monotonic()
        code = dash.stop()
        assert stream.ended.wait(5)
        stream.close()
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a clean shutdown
    assert time.monotonic() - started < 5  # not the 10 s graceful-shutdown timeout
    assert "hookline stopped" in dash.log() or "dispatcher stopped" in dash.log()


def test_updates_reach_a_process_that_did_not_project(
    engine: str, db: Database, database_url: str, start_server: Callable[..., Server], tmp_path
) -> None:
    TokenStore(db).add(TOKEN, "acme")
    cc = CallCenter(seed=12)
    worker = None
    if engine == "postgresql":
        projecting = start_server()  # receives the event and projects it
        watching = start_server(args=("--no-worker",))  # serves the page, projects nothing
    else:
        # SQLite has one serve per file: the worker is a process of its own.
        watching = projecting = start_server(args=("--no-worker",))
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen([sys.executable, "-m", "hookline", "worker"], env=base_env(database_url),
                                  cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        with signed_in(watching) as c:
            # One session for every process on the database (the signing key is in the settings table).
            with projecting.client(cookies=c.cookies) as other:
                assert other.get("/aircall/live").status_code == 200
            stream = EventStream(watching, c.cookies)
            try:
                post(projecting, cc.call_event("call.created", 7101))
                deadline = time.monotonic() + 10
                while 'data-call="7101"' not in c.get("/aircall/live/board").text:
                    stream.next_change(timeout=max(0.1, deadline - time.monotonic()))
                post(projecting, cc.call_event("call.hungup", 7101, status="done"))
                while 'data-call="7101"' in c.get("/aircall/live/board").text:
                    stream.next_change(timeout=max(0.1, deadline - time.monotonic()))
            finally:
                stream.close()
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(15)
