"""BodyDeadline middleware: a request body that has not fully arrived in time gets 408, and the
connection closes. Without it a client that sends a short Content-Length or an unfinished chunked
body holds its connection (and a task) for good.

The webhook endpoints skip middleware; ingest/endpoint.py applies the same deadline to their bodies.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookline.web.responses import error


class BodyTimeout(Exception):
    pass


class BodyDeadline:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        body_done = False
        started = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:  # after the body, receive() waits for a disconnect (streams): no deadline
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, tracked_send)
        except BodyTimeout:
            if started:
                raise
            response = error(
                408, "body_timeout", f"the request body did not arrive within {self.seconds:g} s",
                {"connection": "close"},
            )
            await response(scope, receive, send)
