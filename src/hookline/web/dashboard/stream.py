"""GET /live/stream: server-sent events, one `change` message per committed batch of projections.

Pages re-read their live fragments on each message (the message says which providers changed, the
page fetches the fresh HTML): the server renders and escapes, the browser only swaps it in.
`/live/stream?account=NAME` passes only the changes of that account's events (and those that do not
say which accounts changed: a reconnect, a batch of many accounts), for a partner's page of one customer.
A stream outlives the request that checked its session, so it checks the session again while open
(at least every half session-cache time) and ends with a `signed_out` message once it is revoked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hookline.web.dashboard.core_pages import sign_in_of
from hookline.web.dashboard.session import Sessions, cookie_value
from hookline.web.dashboard.ui import Page
from hookline.web.reads import in_thread, runtime_of

PING_SECONDS = 15.0
MIN_CHECK_SECONDS = 0.25  # with a session cache of 0, still no more than four lookups a second per stream


async def stream(request: Request) -> Response:
    sessions: Sessions = sign_in_of(request).sessions
    check_every = max(MIN_CHECK_SECONDS, min(sessions.cache_seconds / 2, PING_SECONDS))
    cookie = cookie_value(request.scope)  # the page guard let the request in: the cookie named a session
    account = request.query_params.get("account") or None
    sub = runtime_of(request).changes.subscribe()

    def signed_in() -> bool:
        return sessions.check(cookie, touch=False) is not None

    async def events() -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + PING_SECONDS
        next_check = loop.time() + check_every
        try:
            yield b"retry: 2000\nevent: hello\ndata: {}\n\n"
            while True:
                message = await sub.get(max(0.0, min(next_ping, next_check) - loop.time()))
                if message is None:  # the server is shutting down
                    return
                now = loop.time()
                if now >= next_check:
                    if not await in_thread(signed_in):
                        yield b"event: signed_out\ndata: {}\n\n"
                        return
                    next_check = now + check_every
                if not isinstance(message, dict) or not _for(message, account):
                    if now >= next_ping:  # also under a stream of other accounts' changes
                        yield b": ping\n\n"
                        next_ping = now + PING_SECONDS
                    continue
                # The page needs the providers only; which accounts changed stays on the server.
                shown = {"providers": message.get("providers", [])}
                yield b"event: change\ndata: " + msgspec.json.encode(shown) + b"\n\n"
        finally:
            sub.close()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


def _for(message: dict[str, Any], account: str | None) -> bool:
    """Whether a change concerns the stream's account (a message naming no accounts may concern any)."""
    accounts = message.get("accounts")
    return account is None or accounts is None or account in accounts


PAGES = [Page("/live/stream", stream, fragment=True)]
