"""web/reads.py in process: an endpoint's blocking read runs in the thread pool on a pooled connection
of the app's runtime, and what it raises reaches the endpoint."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient

from hookline.store.engine import Connection, Database
from hookline.web.reads import in_thread, read, runtime_of
from hookline.web.responses import JSON

threads: dict[str, int] = {}


def _answer(conn: Connection, value: int) -> int:
    threads["read"] = threading.get_ident()
    return int(conn.scalar("SELECT count(*) FROM events")) + value


def _refuse(conn: Connection) -> None:
    raise LookupError("no such row")


async def answer(request: Request) -> JSON:
    threads["loop"] = threading.get_ident()
    return JSON({"value": await read(request, _answer, 7), "same_db": runtime_of(request).db is request.app.state.db})


async def refuse(request: Request) -> JSON:
    try:
        await read(request, _refuse)
    except LookupError as exc:
        return JSON({"refused": str(exc)}, status_code=404)
    return JSON({})


async def blocking(request: Request) -> JSON:
    return JSON({"ident": await in_thread(threading.get_ident), "loop": threading.get_ident()})


def _client(db: Database) -> TestClient:
    app = Starlette(routes=[Route("/answer", answer), Route("/refuse", refuse), Route("/blocking", blocking)])
    app.state.runtime = SimpleNamespace(db=db)
    app.state.db = db
    return TestClient(app)


def test_read_runs_off_the_event_loop_on_the_runtimes_database(db: Database) -> None:
    threads.clear()
    with _client(db) as client:
        assert client.get("/answer").json() == {"value": 7, "same_db": True}  # no events yet: 0 + 7
    assert threads["read"] != threads["loop"]


def test_what_a_read_raises_reaches_the_endpoint(db: Database) -> None:
    with _client(db) as client:
        response = client.get("/refuse")
    assert response.status_code == 404
    assert response.json() == {"refused": "no such row"}


def test_in_thread_runs_in_another_thread(db: Database) -> None:
    with _client(db) as client:
        body = client.get("/blocking").json()
    assert body["ident"] != body["loop"]
