"""One webhook endpoint: read -> authenticate (the provider's receiver) -> append -> answer.

Answers: 200 only after the event is committed; 4xx for what the client sent; 503 when the log
cannot be written (the provider retries). Never 2xx for something not stored.
"""

from __future__ import annotations

import time

import structlog

from hookline.ingest.committer import CommitFailed
from hookline.ingest.http import (
    BodyTooLarge,
    ClientGone,
    Receive,
    Scope,
    Send,
    header_map,
    read_body,
    send_json,
)
from hookline.providers.base import Reply, WebhookReceiver
from hookline.runtime import Runtime
from hookline.types import Rejection

log = structlog.get_logger(__name__)


class WebhookEndpoint:
    """An ASGI app for one provider receiver."""

    def __init__(self, receiver: WebhookReceiver, runtime: Runtime) -> None:
        self.receiver = receiver
        self.runtime = runtime
        self.provider = receiver.provider
        m = runtime.metrics
        self._ack = m.ack_latency.labels(provider=self.provider)
        self._dupes = m.duplicates.labels(provider=self.provider)
        self._limit = runtime.settings.body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await self._reject(send, Rejection(405, "method", "use POST"), {"allow": "POST"})
            return
        try:
            body = await read_body(scope, receive, self._limit)
        except BodyTooLarge:
            await self._reject(send, Rejection(413, "too_large", f"body over {self._limit} bytes"))
            return
        except ClientGone:
            return
        started = time.perf_counter()
        received_at = time.time()
        headers = header_map(scope)
        # A pseudo-header (no real header name has a colon): receivers that identify the account
        # from the webhook URL read it here. Never stored (not in any receiver's stored_headers).
        headers[":query"] = scope.get("query_string", b"").decode("latin-1")
        try:
            outcome = await self.receiver.parse(headers, body, received_at)
        except Rejection as rej:
            await self._reject(send, rej)
            return
        if isinstance(outcome, Reply):
            await send_json(send, outcome.status, outcome.body, outcome.headers)
            return
        kept = {h: headers[h] for h in self.receiver.stored_headers if h in headers}
        client = scope.get("client")
        if client:
            kept["remote-addr"] = str(client[0])
        outcome.headers = kept
        try:
            result = await self.runtime.committer.append(outcome)
        except CommitFailed:
            self.runtime.metrics.rejected.labels(provider=self.provider, reason="unavailable").inc()
            await send_json(
                send,
                503,
                {"error": "unavailable", "message": "event log unavailable, retry"},
                {"retry-after": "5"},
            )
            return
        self.runtime.metrics.received.labels(
            provider=self.provider, event=self.receiver.event_label(outcome.event)
        ).inc()
        if result.duplicate:
            self._dupes.inc()
        await send_json(send, 200, {"id": result.id, "duplicate": result.duplicate})
        self._ack.observe(time.perf_counter() - started)

    async def _reject(self, send: Send, rej: Rejection, headers: dict[str, str] | None = None) -> None:
        self.runtime.metrics.rejected.labels(provider=self.provider, reason=rej.reason).inc()
        await send_json(send, rej.status, {"error": rej.reason, "message": rej.message}, headers)
