"""The providers' one retry rule (providers/api_retry.py) through the real Calendly and monday.com clients,
against a real HTTP server on 127.0.0.1 that answers 429 with a date Retry-After, 503, or drops the
connection without answering."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any, TypeVar

import pytest

from hookline.providers.api_retry import RetryRules
from hookline.providers.calendly.api import CalendlyAPIError, CalendlyClient
from hookline.providers.monday.api import MondayAPIError, MondayClient

T = TypeVar("T")
FAST = RetryRules(attempts=5, backoff_base=0.01, backoff_max=0.05, max_wait=5.0)
DROP = "drop"
Script = list[tuple[int, dict[str, str]] | str]


class ScriptedServer:
    """Answers each request with the next scripted answer (then 200 with `ok`); counts what it got."""

    def __init__(self, script: Script, ok: Any) -> None:
        self.script = list(script)
        self.ok = ok
        self.requests: list[tuple[str, float]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        length = next((int(h.split(":")[1]) for h in head.split("\r\n") if h.lower().startswith("content-length")), 0)
        await reader.readexactly(length)
        self.requests.append((head.split(" ", 2)[1], time.monotonic()))
        answer = self.script.pop(0) if self.script else (200, {})
        if answer == DROP:
            writer.close()  # the connection dies without an answer
            return
        status, headers = answer
        body = json.dumps(self.ok if status == 200 else {"title": f"status {status}"}).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(
            f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n{extra}"
            "connection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()


def serve(script: Script, ok: Any, use: Callable[[str], Awaitable[T]]) -> tuple[T | BaseException, ScriptedServer]:
    fake = ScriptedServer(script, ok)

    async def main() -> T | BaseException:
        server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
        async with server:
            try:
                return await use(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
            except Exception as exc:
                return exc

    return asyncio.run(main()), fake


def in_a_second() -> dict[str, str]:
    """Retry-After as an HTTP date (the form that used to crash the clients), about a second away."""
    return {"retry-after": formatdate(time.time() + 1.5, usegmt=True)}


ME = {"resource": {"uri": "https://api.calendly.com/users/U1", "name": "Ada"}}


def calendly(call: Callable[[CalendlyClient], Awaitable[T]]) -> Callable[[str], Awaitable[T]]:
    async def use(url: str) -> T:
        async with CalendlyClient(url, "tok-secret") as client:
            client.retry_rules = FAST
            return await call(client)

    return use


def test_calendly_rides_out_a_date_retry_after_a_503_and_a_dropped_connection() -> None:
    result, fake = serve([(429, in_a_second()), (503, {}), DROP], ME, calendly(lambda c: c.me()))
    assert result == ME["resource"]
    assert len(fake.requests) == 4
    assert fake.requests[1][1] - fake.requests[0][1] >= 0.4  # waited as the date said, not the 0.01 s backoff


def test_calendly_post_is_not_repeated_after_a_503_or_a_drop_but_after_a_429() -> None:
    def create(c: CalendlyClient) -> Awaitable[dict[str, Any]]:
        return c.create_subscription(
            url="https://h.example/c", events=["invitee.created"], organization="o", scope="organization"
        )

    result, fake = serve([(503, {})], ME, calendly(create))
    assert isinstance(result, CalendlyAPIError) and result.status == 503 and len(fake.requests) == 1
    result, fake = serve([DROP], ME, calendly(create))
    assert isinstance(result, CalendlyAPIError) and result.status == 0 and "cannot reach" in result.message
    assert len(fake.requests) == 1
    result, fake = serve([(429, {"retry-after": "0"})], ME, calendly(create))
    assert result == ME["resource"] and len(fake.requests) == 2


def test_calendly_gives_up_clearly() -> None:
    result, fake = serve([(429, {"retry-after": "3600"})], ME, calendly(lambda c: c.me()))
    assert isinstance(result, CalendlyAPIError) and result.status == 429 and "retry in 3600 s" in result.message
    assert len(fake.requests) == 1  # an hour is not waited for
    result, fake = serve([(503, {})] * 9, ME, calendly(lambda c: c.me()))
    assert isinstance(result, CalendlyAPIError) and result.status == 503 and len(fake.requests) == FAST.attempts
    assert "tok-secret" not in str(result)


DATA = {"data": {"me": {"id": "1", "name": "Ada"}}}


def monday(call: Callable[[MondayClient], Awaitable[T]]) -> Callable[[str], Awaitable[T]]:
    async def use(url: str) -> T:
        async with MondayClient(url + "/v2", "tok-secret") as client:
            client.retry_rules = FAST
            return await call(client)

    return use


def test_monday_rides_out_a_date_retry_after_a_503_and_a_dropped_connection() -> None:
    result, fake = serve([(429, in_a_second()), (503, {}), DROP], DATA, monday(lambda c: c.me()))
    assert result == DATA["data"]["me"]
    assert len(fake.requests) == 4 and fake.requests[1][1] - fake.requests[0][1] >= 0.4


@pytest.mark.parametrize("failure", [(503, {}), DROP])
def test_monday_mutation_is_not_repeated_after_a_503_or_a_drop(failure: tuple[int, dict[str, str]] | str) -> None:
    result, fake = serve([failure], DATA, monday(lambda c: c.delete_webhook("7")))
    assert isinstance(result, MondayAPIError) and len(fake.requests) == 1
    assert result.status == (503 if failure != DROP else 0)


def test_monday_gives_up_after_the_attempts() -> None:
    result, fake = serve([(502, {})] * 9, DATA, monday(lambda c: c.me()))
    assert isinstance(result, MondayAPIError) and result.status == 502 and len(fake.requests) == FAST.attempts


def test_aircall_waits_for_a_date_retry_after() -> None:
    """Aircall's client keeps its own loop (its rate limiter is shared by every caller of an account)
    but reads Retry-After with the same parser: an HTTP date is a wait, not a fallback guess."""
    from hookline.providers.aircall.api import AircallClient, Credentials

    async def use(url: str) -> Any:
        async with AircallClient(url, Credentials.basic("api-id", "tok-secret", account="acme")) as client:
            return await client.request("GET", "/users")

    later = {"retry-after": formatdate(time.time() + 2.5, usegmt=True)}
    result, fake = serve([(429, later)], {"users": []}, use)
    assert result == {"users": []} and len(fake.requests) == 2
    assert fake.requests[1][1] - fake.requests[0][1] >= 1.4  # the date, not the 0.5 s guess made without it


def test_what_is_worth_another_attempt() -> None:
    import aiohttp

    from hookline.providers.api_retry import RetryableAnswer

    rules = RetryRules(max_wait=30)
    assert rules._retryable(aiohttp.ServerDisconnectedError(), idempotent=True)
    assert not rules._retryable(aiohttp.ServerDisconnectedError(), idempotent=False)  # a POST may have been done
    assert not rules._retryable(TimeoutError(), idempotent=True)  # it already waited the whole timeout
    assert not rules._retryable(aiohttp.ServerTimeoutError(), idempotent=True)
    assert rules._retryable(RetryableAnswer(429, 5.0), idempotent=False)  # nothing was done
    assert not rules._retryable(RetryableAnswer(429, 31.0), idempotent=True)  # longer than max_wait
    assert not rules._retryable(RetryableAnswer(503, None), idempotent=False)
    assert not rules._retryable(ValueError("a bug"), idempotent=True)
