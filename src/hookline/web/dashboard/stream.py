"""GET /live/stream: server-sent events, one `change` message per committed batch of projections.

Pages re-read their live fragments on each message (the message says which providers changed, the
page fetches the fresh HTML): the server renders and escapes, the browser only swaps it in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hookline.pipeline.changes import ChangeFeed

PING_SECONDS = 15.0


def stream_endpoint(feed: ChangeFeed, ping_seconds: float = PING_SECONDS) -> Callable[[Request], Awaitable[Response]]:
    async def stream(request: Request) -> Response:
        sub = feed.subscribe()

        async def events() -> AsyncIterator[bytes]:
            try:
                yield b"retry: 2000\nevent: hello\ndata: {}\n\n"
                while True:
                    message = await sub.get(ping_seconds)
                    if message is None:  # the server is shutting down
                        return
                    if message is False:
                        yield b": ping\n\n"
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
