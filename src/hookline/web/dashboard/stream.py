"""GET /live/stream: server-sent events, one `change` message per committed batch of projections.

Pages re-read their live fragments on each message (the message says which providers changed, the
page fetches the fresh HTML): the server renders and escapes, the browser only swaps it in.
A stream outlives the request that checked its session, so it checks the session again while open
(at least every half session-cache time) and ends with a `signed_out` message once it is revoked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hookline.pipeline.changes import ChangeFeed
from hookline.web.dashboard.session import Sessions, cookie_value

PING_SECONDS = 15.0
MIN_CHECK_SECONDS = 0.25  # with a session cache of 0, still no more than four lookups a second per stream


def stream_endpoint(
    feed: ChangeFeed, sessions: Sessions, ping_seconds: float = PING_SECONDS
) -> Callable[[Request], Awaitable[Response]]:
    check_every = max(MIN_CHECK_SECONDS, min(sessions.cache_seconds / 2, ping_seconds))

    async def stream(request: Request) -> Response:
        cookie = cookie_value(request.scope)  # the page guard let the request in: the cookie named a session
        sub = feed.subscribe()

        def signed_in() -> bool:
            return sessions.check(cookie, touch=False) is not None

        async def events() -> AsyncIterator[bytes]:
            loop = asyncio.get_running_loop()
            next_ping = loop.time() + ping_seconds
            next_check = loop.time() + check_every
            try:
                yield b"retry: 2000\nevent: hello\ndata: {}\n\n"
                while True:
                    message = await sub.get(max(0.0, min(next_ping, next_check) - loop.time()))
                    if message is None:  # the server is shutting down
                        return
                    now = loop.time()
                    if now >= next_check:
                        if not await run_in_threadpool(signed_in):
                            yield b"event: signed_out\ndata: {}\n\n"
                            return
                        next_check = now + check_every
                    if message is False:
                        if now >= next_ping:
                            yield b": ping\n\n"
                            next_ping = now + ping_seconds
                        continue
                    yield b"event: change\ndata: " + msgspec.json.encode(message) + b"\n\n"
            finally:
                sub.close()

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    return stream
