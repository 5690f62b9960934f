"""The Aircall API client against the fake Aircall API, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import pytest

from hookline.providers.aircall.api import (
    AircallClient,
    AuthError,
    Credentials,
    InvalidRequest,
    ListCapReached,
    NotFound,
    RateLimited,
    RateLimiter,
    Unavailable,
    WebhookLimitReached,
)
from hookline.testing.aircall.fake_api import FakeAccount, FakeAircallState, serve_fake_api, silent_mp3

T = TypeVar("T")

EVENTS = ["call.created", "call.answered", "call.ended", "contact.created", "user.created"]


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def fake(
    rate_limit: int = 100_000, rate_window: float = 60.0, **state_kwargs: Any
) -> AsyncIterator[tuple[FakeAircallState, FakeAccount, str]]:
    state = FakeAircallState(events=EVENTS, **state_kwargs)
    account = state.add_account("acme", rate_limit=rate_limit, rate_window=rate_window)
    runner, base_url = await serve_fake_api(state)
    try:
        yield state, account, base_url
    finally:
        await runner.cleanup()


def creds(account: FakeAccount) -> Credentials:
    return Credentials.basic(account.api_id, account.api_token, account=account.name)


def client(base_url: str, account: FakeAccount, **kwargs: Any) -> AircallClient:
    kwargs.setdefault("backoff_base", 0.01)
    return AircallClient(base_url, creds(account), **kwargs)


# ------------------------------------------------------------------------------------ credentials


def test_credentials_never_show_secrets() -> None:
    basic = Credentials.basic("id-1234567", "s3cr3t-token")
    oauth = Credentials.oauth("oauth-s3cr3t", account="acme")
    for text in (repr(basic), str(basic), repr(oauth), str(oauth)):
        assert "s3cr3t" not in text
    assert "acme" in repr(oauth)
    assert basic.redact("echo s3cr3t-token back") == "echo *** back"
    with pytest.raises(ValueError):
        Credentials("only-id")
    with pytest.raises(ValueError):
        Credentials("id", "token", oauth_token="both")


def test_bad_credentials_raise_auth_error_without_secret() -> None:
    async def scenario() -> None:
        async with fake() as (_state, account, base_url):
            wrong = Credentials.basic(account.api_id, "wrong-secret-token", account="acme")
            async with AircallClient(base_url, wrong) as api:
                with pytest.raises(AuthError) as info:
                    await api.ping()
            message = str(info.value)
            assert "Aircall rejected the credentials for account acme" in message
            assert "wrong-secret-token" not in message and account.api_token not in message
            assert info.value.status == 401
            async with client(base_url, account) as api:
                assert await api.ping() is True

    run(scenario)


def test_oauth_bearer_token() -> None:
    async def scenario() -> None:
        async with fake() as (state, _account, base_url):
            state.add_account("oauth-co", oauth_token="bearer-token-xyz")
            async with AircallClient(base_url, Credentials.oauth("bearer-token-xyz")) as api:
                assert await api.ping() is True
            async with AircallClient(base_url, Credentials.oauth("nope")) as api:
                with pytest.raises(AuthError):
                    await api.ping()

    run(scenario)


# --------------------------------------------------------------------------------------- webhooks


def test_webhook_crud() -> None:
    async def scenario() -> None:
        async with fake() as (state, account, base_url), client(base_url, account) as api:
            created = await api.create_webhook("https://hooks.example.com/a", EVENTS[:2], "hookline")
            webhook_id = created["webhook_id"]
            assert created["events"] == EVENTS[:2]
            assert created["active"] is True and len(created["token"]) == 32
            assert created["direct_link"] == f"{base_url}/v1/webhooks/{webhook_id}"
            assert state.webhooks_for("acme")[0]["token"] == created["token"]

            assert (await api.get_webhook(webhook_id))["url"] == "https://hooks.example.com/a"
            assert [w["webhook_id"] for w in await api.list_webhooks()] == [webhook_id]

            updated = await api.update_webhook(webhook_id, url="https://hooks.example.com/b", active=False)
            assert updated["url"] == "https://hooks.example.com/b" and updated["active"] is False
            assert updated["events"] == EVENTS[:2]

            state.set_webhook_active(webhook_id, True)
            assert (await api.get_webhook(webhook_id))["active"] is True

            await api.delete_webhook(webhook_id)
            with pytest.raises(NotFound):
                await api.get_webhook(webhook_id)
            assert await api.list_webhooks() == []

    run(scenario)


def test_update_always_sends_the_events_list() -> None:
    async def scenario() -> None:
        async with fake() as (state, account, base_url), client(base_url, account) as api:
            webhook = await api.create_webhook("https://hooks.example.com/a", ["call.ended"], "x")
            state.request_log.clear()
            updated = await api.update_webhook(webhook["webhook_id"], custom_name="renamed")
            assert updated["custom_name"] == "renamed"
            assert updated["events"] == ["call.ended"]  # not reset to every event
            puts = [r for r in state.request_log if r.method == "PUT"]
            assert len(puts) == 1 and puts[0].body["events"] == ["call.ended"]

            # The trap the client avoids: a PUT without events subscribes to everything.
            raw = await api.request("PUT", f"webhooks/{webhook['webhook_id']}", json={"custom_name": "raw"})
            assert raw["webhook"]["events"] == EVENTS

            updated = await api.update_webhook(webhook["webhook_id"], events=["call.created"])
            assert updated["events"] == ["call.created"]
            with pytest.raises(ValueError):
                await api.update_webhook(webhook["webhook_id"], events=[])

    run(scenario)


def test_invalid_event_names_are_rejected_with_aircalls_message() -> None:
    async def scenario() -> None:
        async with fake() as (_state, account, base_url), client(base_url, account) as api:
            with pytest.raises(InvalidRequest) as info:
                await api.create_webhook("https://hooks.example.com/a", ["call.created", "call.teleported"])
            assert "call.teleported" in str(info.value)
            assert info.value.status == 400
            with pytest.raises(ValueError):
                await api.create_webhook("https://hooks.example.com/a", [])

    run(scenario)


def test_default_event_list_comes_from_the_catalog() -> None:
    from hookline.providers.aircall.catalog import CATALOG

    state = FakeAircallState()
    state.add_account()
    webhook = state.create_webhook("https://hooks.example.com/a")
    assert webhook["events"] == list(CATALOG)


def test_webhook_limit() -> None:
    async def scenario() -> None:
        async with fake() as (state, account, base_url), client(base_url, account) as api:
            for i in range(100):
                state.create_webhook(f"https://hooks.example.com/{i}", ["call.created"], account="acme")
            with pytest.raises(WebhookLimitReached) as info:
                await api.create_webhook("https://hooks.example.com/more", ["call.created"])
            assert "webhook limit" in str(info.value)
            assert len(await api.list_webhooks()) == 100  # two pages of 50

    run(scenario)


# ------------------------------------------------------------------------------------- pagination


def test_pagination_follows_next_page_link() -> None:
    async def scenario() -> None:
        async with fake() as (state, account, base_url), client(base_url, account) as api:
            state.add_many("users", ({"name": f"user {i}", "created_at": 1_700_000_000 + i} for i in range(120)))
            state.request_log.clear()
            users = [u async for u in api.iter_list("users", per_page=50)]
            assert [u["name"] for u in users] == [f"user {i}" for i in range(120)]
            pages = [r for r in state.request_log if r.path == "/v1/users"]
            assert [r.query.get("page") for r in pages] == [None, "2", "3"]

            body = await api.request("GET", "users", params={"per_page": 50})
            assert body["meta"]["total"] == 120 and body["meta"]["count"] == 50
            assert body["meta"]["next_page_link"].startswith(f"{base_url}/v1/users?")
            assert body["meta"]["previous_page_link"] is None

            window = [u async for u in api.list_users(since=1_700_000_010, until=1_700_000_020)]
            assert [u["name"] for u in window] == [f"user {i}" for i in range(10, 20)]

    run(scenario)


def test_window_splitting_beyond_the_10000_cap() -> None:
    async def scenario() -> None:
        async with fake() as (state, account, base_url), client(base_url, account) as api:
            start = 1_700_000_000
            state.seed_calls(25_000, start=start, spacing=2)
            until = start + 50_000

            with pytest.raises(ListCapReached):  # a plain listing stops at the cap
                async for _ in api.iter_list("calls", since=start, until=until):
                    pass
            with pytest.raises(ListCapReached):  # as Aircall does, page 201 of 50 is refused
                await api.request("GET", "calls", params={"page": 201, "per_page": 50})

            calls = [c async for c in api.list_calls(since=start, until=until)]
            assert len(calls) == 25_000
            assert len({c["id"] for c in calls}) == 25_000
            assert [c["started_at"] for c in calls] == sorted(c["started_at"] for c in calls)

            # Half-open window: the call at `until` belongs to the next window.
            edge = [c async for c in api.list_calls(since=start, until=start + 10)]
            assert [c["started_at"] for c in edge] == [start + i for i in range(0, 10, 2)]

    run(scenario)


def test_window_resumes_when_records_arrive_past_the_cap_mid_listing() -> None:
    async def scenario() -> None:
        async with fake() as (state, account, base_url), client(base_url, account) as api:
            start = 1_700_000_000
            state.seed_calls(9_990, start=start)
            seen: list[dict[str, Any]] = []
            async for call in api.list_calls(since=start, until=start + 20_000):
                seen.append(call)
                if len(seen) == 1:  # new calls land inside the window while we page through it
                    state.seed_calls(30, start=start + 9_995)
            assert len(seen) == 10_020 == len({c["id"] for c in seen})

    run(scenario)


# ------------------------------------------------------------------------------------ rate limits


def test_429s_under_concurrency_share_one_limiter() -> None:
    async def scenario() -> None:
        # 10 requests per 0.5 s window stands in for Aircall's 60 a minute.
        async with fake(rate_limit=10, rate_window=0.5) as (_state, account, base_url):
            limiter = RateLimiter(reset_margin=0.02)
            async with client(base_url, account, limiter=limiter) as api:
                began = time.monotonic()
                results = await asyncio.gather(*(api.ping() for _ in range(30)))
                elapsed = time.monotonic() - began
            assert all(results)
            assert account.requests - account.throttled == 30
            assert account.throttled <= 20  # only the first burst, before the limit was known
            assert limiter.capacity == 10  # learnt from X-AircallApi-Limit
            assert elapsed < 3.0

            # Now the limiter knows the limit: the next burst waits instead of hitting 429s.
            throttled_before = account.throttled
            async with client(base_url, account, limiter=limiter) as api:
                assert all(await asyncio.gather(*(api.ping() for _ in range(25))))
            assert account.throttled - throttled_before <= 10

    run(scenario)


def test_gives_up_when_rate_limited_too_long() -> None:
    async def scenario() -> None:
        async with fake(rate_limit=1, rate_window=3600) as (_state, account, base_url):
            async with client(base_url, account, max_rate_wait=1.0) as api:
                assert await api.ping()
                with pytest.raises(RateLimited) as info:
                    await api.ping()
            assert info.value.retry_after is not None and info.value.retry_after > 1.0
            assert "acme" in str(info.value)

    run(scenario)


# ---------------------------------------------------------------------------------------- retries


def test_transient_5xx_are_retried() -> None:
    async def scenario() -> None:
        async with fake() as (state, account, base_url), client(base_url, account, max_retries=3) as api:
            state.inject_failures(3, status=503)
            assert await api.ping() is True

            state.inject_failures(5, status=500)
            with pytest.raises(Unavailable) as info:
                await api.ping()
            assert info.value.status == 500

            # POST is not idempotent: a 5xx is not retried (the webhook may exist already).
            state.clear_failures()
            state.inject_failures(1, status=502)
            with pytest.raises(Unavailable):
                await api.create_webhook("https://hooks.example.com/a", ["call.created"])
            assert await api.list_webhooks() == []

    run(scenario)


def test_connection_errors_become_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before use: nothing listens there

    async def scenario() -> None:
        api = AircallClient(
            f"http://127.0.0.1:{port}", Credentials.basic("id", "tok"), max_retries=2, backoff_base=0.01
        )
        async with api:
            with pytest.raises(Unavailable) as info:
                await api.ping()
        assert "unreachable" in str(info.value) and "tok" not in str(info.value)

    run(scenario)


# ------------------------------------------------------------------------------------------ calls


def _mp3_frames(data: bytes) -> int:
    """Walk MPEG-1 Layer III frames; fail on anything that is not one."""
    bitrates = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
    rates = [44100, 48000, 32000]
    pos = frames = 0
    while pos < len(data):
        header = data[pos : pos + 4]
        assert header[0] == 0xFF and header[1] & 0xE0 == 0xE0, f"no frame sync at {pos}"
        assert (header[1] >> 3) & 3 == 3 and (header[1] >> 1) & 3 == 1  # MPEG-1, Layer III
        length = 144 * bitrates[header[2] >> 4] * 1000 // rates[(header[2] >> 2) & 3] + ((header[2] >> 1) & 1)
        pos += length
        frames += 1
    assert pos == len(data)
    return frames


def test_recording_links_are_signed_and_expire() -> None:
    async def scenario() -> None:
        async with fake() as (state, account, base_url), client(base_url, account) as api:
            call = state.add_call({"direction": "inbound", "recording": True, "voicemail": None})
            got = await api.get_call(call["id"])
            assert got["voicemail"] is None
            link = got["recording"]
            assert link.startswith(f"{base_url}/recordings/{call['id']}.mp3?expires=")

            async with aiohttp.ClientSession() as http:
                async with http.get(link) as resp:
                    assert resp.status == 200 and resp.content_type == "audio/mpeg"
                    assert _mp3_frames(await resp.read()) >= 38  # about a second
                async with http.get(link.replace("sig=", "sig=0")) as resp:
                    assert resp.status == 403
                state.advance(state.recording_ttl + 1)
                async with http.get(link) as resp:
                    assert resp.status == 403
                    assert "expired" in await resp.text()
                fresh = (await api.get_call(call["id"]))["recording"]
                async with http.get(fresh) as resp:
                    assert resp.status == 200

            state.update_call(call["id"], {"status": "done", "voicemail": True})
            assert (await api.get_call(call["id"]))["voicemail"].startswith(f"{base_url}/voicemails/")
            with pytest.raises(NotFound):
                await api.get_call(999_999_999)

    run(scenario)


def test_silent_mp3_is_valid() -> None:
    assert _mp3_frames(silent_mp3(2.0)) == 77
