"""uvicorn's httptools protocol with a deadline on the request head.

uvicorn times out an idle keep-alive connection, but not one that never finishes its request line
and headers: a client that connects and sends nothing, or trickles a header byte every few seconds,
holds its connection for good (the first byte even cancels the keep-alive timer). This protocol
arms a timer when a connection opens and when a request begins, and disarms it when the headers are
complete; when it fires the client gets 408 and the connection closes. The body has its own
deadline in the application (web/body_deadline.py, ingest/endpoint.py); both use
HOOKLINE_BODY_TIMEOUT_SECONDS. A reverse proxy in front should still bound both (docs/operations.md).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_BODY = b'{"error":"header_timeout","message":"the request headers did not arrive in time"}'
_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"content-length: " + str(len(_BODY)).encode() + b"\r\n\r\n" + _BODY
)


class HeadDeadlineProtocol(HttpToolsProtocol):
    head_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        super().on_headers_complete()

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport is not None and not self.transport.is_closing():
            if self.cycle is None or self.cycle.response_complete:  # never write into another answer
                self.transport.write(_ANSWER)
            self.transport.close()


def protocol(head_timeout: float) -> type[HeadDeadlineProtocol]:
    """The protocol class for uvicorn.Config(http=...), with its deadline."""
    return type("HeadDeadlineProtocol", (HeadDeadlineProtocol,), {"head_timeout": head_timeout})
