"""uvicorn's httptools protocol with a deadline on each request: its head and body must arrive
within HOOKLINE_BODY_TIMEOUT_SECONDS.

uvicorn times out an idle keep-alive connection, but not a request that never finishes: a client
that connects and sends nothing, trickles its headers a byte at a time (the first byte even cancels
the keep-alive timer), sends fewer bytes than its Content-Length or never sends a chunked body's
last chunk holds its connection, and the task reading it, for good.

Each connection notes when its current request began (the connection opening, or the request's
first byte on a kept-alive connection) and clears it when the request's last byte is in. One
sweep per process, every quarter of the deadline (at most every second), closes the connections
whose request is older than the deadline: with `408` and a JSON body (`header_timeout` or
`body_timeout`) when no answer has started, the application then seeing a disconnect. No timer per
request: the hot path pays a clock read (measured under uvloop on the 2-core machine, loaded:
asyncio.timeout around the body read added about 24 us per request, a timer armed and cancelled
about 14 us; the raw ASGI exchange itself is about 2 us).
A reverse proxy in front should still bound slow clients itself (docs/operations.md, "Security").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def _answer(code: str, what: str) -> bytes:
    body = b'{"error":"%s","message":"the request %s did not arrive in time"}' % (code.encode(), what.encode())
    return (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
        b"content-length: %d\r\n\r\n%s" % (len(body), body)
    )


HEADER_TIMEOUT = _answer("header_timeout", "headers")
BODY_TIMEOUT = _answer("body_timeout", "body")


class DeadlineProtocol(HttpToolsProtocol):
    timeout: float = 10.0
    on_timeout: Callable[[str], None] | None = None  # told "header" or "body" for each 408 sent (metrics)
    # One sweep per process (serve has one event loop): the set of connections is uvicorn's.
    _sweep: asyncio.TimerHandle | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._began: float | None = None  # when the request in progress began; None between requests
        self._head_done = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._began = self.loop.time()
        self._head_done = False
        if type(self)._sweep is None:
            self._schedule_sweep()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._began is None:
            self._began = self.loop.time()
        self._head_done = False

    def on_headers_complete(self) -> None:
        self._head_done = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._began = None
        super().on_message_complete()

    def _schedule_sweep(self) -> None:
        interval = min(1.0, self.timeout / 4)
        type(self)._sweep = self.loop.call_later(interval, self._sweep_all, self.connections)

    def _sweep_all(self, connections: set[Any]) -> None:
        now = self.loop.time()
        for conn in list(connections):
            if isinstance(conn, DeadlineProtocol) and conn._began is not None and now - conn._began > conn.timeout:
                conn._timed_out()
        if connections:
            self._schedule_sweep()
        else:
            type(self)._sweep = None  # the next connection starts it again

    def _timed_out(self) -> None:
        self._began = None
        if self.transport is None or self.transport.is_closing():
            return
        cycle = self.cycle
        if self._head_done:
            answer = BODY_TIMEOUT if cycle is not None and not cycle.response_started else None
        else:  # never written into the middle of an earlier (pipelined) request's answer
            answer = HEADER_TIMEOUT if cycle is None or cycle.response_complete else None
        if answer is not None:
            self.transport.write(answer)
            if self.on_timeout is not None:
                self.on_timeout("body" if answer is BODY_TIMEOUT else "header")
        self.transport.close()  # the application, if it still reads the body, sees a disconnect


def protocol(timeout: float, on_timeout: Callable[[str], None] | None = None) -> type[DeadlineProtocol]:
    """The protocol class for uvicorn.Config(http=...), with its deadline and what to tell of each 408."""
    return type("DeadlineProtocol", (DeadlineProtocol,),
                {"timeout": timeout, "_sweep": None, "on_timeout": staticmethod(on_timeout) if on_timeout else None})
