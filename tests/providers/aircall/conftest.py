"""A fake Aircall API on 127.0.0.1, served from a background thread so CLI subprocesses can reach it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from aiohttp import web

from hookline.providers.aircall.accounts import AccountStore
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import FakeAccount, FakeAircallState, serve_fake_api
from tests.support import run_cli, run_cli_process

T = TypeVar("T")
LOGGING_COMMANDS = {("aircall", "backfill"), ("aircall", "watchdog")}


@dataclass
class FakeAircall:
    state: FakeAircallState
    url: str
    loop: asyncio.AbstractEventLoop

    def call(self, fn: Callable[[], T]) -> T:
        """Run fn on the fake's loop: state changes never race a request being served."""

        async def wrapped() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(10)

    def account(self, name: str = "acme") -> FakeAccount:
        return self.state.accounts[name]

    def env(self, **extra: str) -> dict[str, str]:
        return {"HOOKLINE_AIRCALL_API_URL": self.url, **extra}

    def requests(self, method: str | None = None, prefix: str = "/v1/") -> list[Any]:
        log = self.call(lambda: list(self.state.request_log))
        return [r for r in log if (method is None or r.method == method) and r.path.startswith(prefix)]


@pytest.fixture
def fake_aircall() -> Iterator[FakeAircall]:
    state = FakeAircallState()
    state.add_account("acme", rate_limit=1_000_000)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)

        async def start() -> None:
            holder["runner"], holder["url"] = await serve_fake_api(state)
            ready.set()

        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=serve, name="fake-aircall", daemon=True)
    thread.start()
    assert ready.wait(10), "the fake Aircall API did not start"
    try:
        yield FakeAircall(state, holder["url"], loop)
    finally:
        runner: web.AppRunner = holder["runner"]
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def cli(database_url: str, fake_aircall: FakeAircall, db: Any) -> Callable[..., Any]:
    """run_cli with the fake's URL (and any extra environment); the database is migrated first.
    `backfill` and `watchdog` set up logging (structured lines on stderr): they run in a process of
    their own, the other commands in this one."""

    def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Any:
        run = run_cli_process if tuple(args[:2]) in LOGGING_COMMANDS else run_cli
        return run(*args, database_url=database_url, env=fake_aircall.env(**(env or {})), input=input)

    return invoke


@pytest.fixture
def acme(db: Database, fake_aircall: FakeAircall) -> FakeAccount:
    """The fake's account `acme`, stored in hookline with its real credentials (in-process: the CLI
    path of `account add` has its own tests)."""
    account = fake_aircall.account()
    AccountStore(db, SecretBox(None)).add("acme", api_id=account.api_id, api_token=account.api_token)
    return account
