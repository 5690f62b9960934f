"""What the dashboard tests share: a signed-in client, Aircall events happening now, waiting."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx

from hookline.testing.aircall.samples import make_call, make_contact, make_number, make_user
from tests.support import ADMIN_TOKEN, ROOT, Server, post_events

TOKEN = "aircall-dashboard-token-0123456789"
XSS = "<img src=x onerror=alert(1)>"
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
T = TypeVar("T")

Json = dict[str, Any]


@contextmanager
def signed_in(server: Server) -> Iterator[httpx.Client]:
    with server.client() as client:
        r = client.post("/login", data={"token": ADMIN_TOKEN, "next": "/operations"})
        assert r.status_code == 303 and r.headers["location"] == "/operations", r.text
        yield client


def sign_in(page: Any, server: Server, path: str = "/aircall/live") -> None:
    page.goto(server.url + path)
    assert "/login" in page.url
    page.fill("input[name=token]", "wrong-token")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "That token is not the admin token."
    page.fill("input[name=token]", ADMIN_TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + path)


def csrf_of(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def eventually(check: Callable[[], T], timeout: float = 10.0, step: float = 0.05) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def processed(server: Server, timeout: float = 15.0) -> None:
    with server.admin() as admin:
        assert eventually(lambda: admin.get("/api/stats").json()["jobs"]["pending"] == 0, timeout)


class CallCenter:
    """Aircall webhook bodies about agents and calls, stamped with the current time."""

    def __init__(self, seed: int = 5) -> None:
        self.rng = random.Random(seed)
        self.number = make_number(self.rng, 700)
        self.agents: dict[int, Json] = {}
        self.calls: dict[int, Json] = {}
        self.clock = int(time.time()) - 600

    def now(self) -> int:
        # Strictly increasing, a second apart: each snapshot is the newer one.
        self.clock = max(self.clock + 1, int(time.time()))
        return self.clock

    def agent(self, agent_id: int, name: str | None = None) -> Json:
        if agent_id not in self.agents:
            user = make_user(self.rng, agent_id, v2=True)
            if name:
                user["name"] = name
            self.agents[agent_id] = user
        return self.agents[agent_id]

    def user_event(self, event: str, agent_id: int, name: str | None = None) -> Json:
        user = self.agent(agent_id, name)
        return self._envelope("user", event, dict(user))

    def call_event(
        self,
        event: str,
        call_id: int,
        *,
        agent_id: int | None = None,
        contact_name: tuple[str, str] | None = None,
        status: str = "initial",
        answered: bool = True,
        direction: str = "inbound",
        **extra: Any,
    ) -> Json:
        ts = self.now()
        if call_id not in self.calls:
            contact = make_contact(self.rng, call_id % 10_000)
            if contact_name is not None:
                contact["first_name"], contact["last_name"] = contact_name
            self.calls[call_id] = {"contact": contact, "started_at": ts - 3}  # rang a moment ago
        known = self.calls[call_id]
        user = self.agent(agent_id) if agent_id is not None else None
        call = make_call(
            self.rng, call_id, user=user, number=self.number, contact=known["contact"], status=status,
            direction=direction, started_at=known["started_at"], answered=answered, **extra,
        )
        return self._envelope("call", event, call, ts)

    def _envelope(self, resource: str, event: str, data: Json, ts: int | None = None) -> Json:
        return {"resource": resource, "event": event, "timestamp": ts or self.now(), "token": TOKEN, "data": data}


post = post_events  # the dashboard tests' name for tests.support.post_events


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


class EventStream:
    """Reads /live/stream in a thread; `next_change()` waits for the next `change` message."""

    def __init__(self, server: Server, cookies: httpx.Cookies, path: str = "/live/stream") -> None:
        import queue
        import threading

        self.messages: queue.Queue[tuple[str, str, float]] = queue.Queue()
        self._client = httpx.Client(base_url=server.url, cookies=cookies, timeout=httpx.Timeout(5, read=60))
        self._response = self._client.send(self._client.build_request("GET", path), stream=True)
        assert self._response.status_code == 200, self._response.read()
        assert self._response.headers["content-type"].startswith("text/event-stream")
        self.ended = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        name, _, _ = self.messages.get(timeout=5)
        assert name == "hello"

    def _read(self) -> None:
        name, data = "message", ""
        try:
            for line in self._response.iter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif line == "":
                    if data:
                        self.messages.put((name, data, time.monotonic()))
                    name, data = "message", ""
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()

    def next_change(self, timeout: float = 5.0) -> tuple[dict[str, Any], float]:
        import json
        import queue

        deadline = time.monotonic() + timeout
        while True:
            try:
                name, data, at = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no change message within {timeout} s") from None
            if name == "change":
                return json.loads(data), at

    def drain(self) -> None:
        while not self.messages.empty():
            self.messages.get_nowait()

    def close(self) -> None:
        self._response.close()
        self._client.close()
