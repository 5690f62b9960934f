"""A real HTTP destination for forwarding tests: an aiohttp server on 127.0.0.1 in a background thread.

It records every request (time, headers, body, the status it answered) and answers as scripted:
`script` responses first (one per request), then `default`. `stop()` closes the listener so the port
refuses connections; `start()` opens it again on the same port.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support import free_port


@dataclass
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    finished_at: float = 0.0

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = "sink says hello"


class Sink:
    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[Received] = []
        self.script: deque[Answer] = deque()
        self.default = Answer(200)
        self.delay = 0.0
        # Optional: decide per request (e.g. fail one given event once); returns None to fall through.
        self.rule: Callable[[Received], Answer | None] | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def url_for(self, name: str) -> str:
        """A distinct URL per destination on the same sink (told apart by `Received.path`)."""
        return f"{self.url}?d={name}"

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _handle(self, request: web.Request) -> web.Response:
        got = Received(
            time.time(), request.path_qs, {k.lower(): v for k, v in request.headers.items()}, await request.read()
        )
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            answer = (self.rule(got) if self.rule else None) or (self.script.popleft() if self.script else self.default)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            with self._lock:
                self.in_flight -= 1
                got.status = answer.status
                got.finished_at = time.time()
                self.requests.append(got)
        return web.Response(status=answer.status, headers=answer.headers, text=answer.body)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/hook", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start(self) -> Sink:
        self._call(self._start())
        return self

    def stop(self) -> None:
        self._call(self._stop())

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    def succeeded(self, name: str | None = None) -> list[Received]:
        return [r for r in self.snapshot() if r.ok and (name is None or r.path.endswith(f"?d={name}"))]

    def wait_for(self, predicate: Callable[[Sink], bool], timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.02)
        return predicate(self)
