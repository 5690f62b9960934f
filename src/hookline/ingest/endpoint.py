"""One webhook endpoint: read -> authenticate (the provider's receiver) -> append -> answer.

Answers: 200 only after the event is committed; 4xx for what the client sent (nesting too deep for
a decoder is refused before the receiver decodes anything, deeper than validate.MAX_DEPTH and text
the log's columns cannot hold after authentication); 503 when the log cannot be written (the provider retries).
Never 2xx for something not stored.
"""

from __future__ import annotations

import time

import structlog

from hookline.ingest import validate
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
from hookline.provider import Reply, WebhookReceiver
from hookline.runtime import Runtime
from hookline.store.committer import CommitFailed, EventRefused
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
            nested = validate.may_be_too_deep(body)
            if nested and validate.too_deep_to_decode(body):
                raise RecursionError
            outcome = await self.receiver.parse(headers, body, received_at)
            if not isinstance(outcome, Reply):
                validate.event_columns(outcome)
                if nested and validate.too_deep(body):
                    raise RecursionError
        except RecursionError:  # from the check above, or a decoder that recursed too far anyway
            log.warning("webhook refused", provider=self.provider, reason="too_deep", bytes=len(body))
            message = f"JSON nested deeper than {validate.MAX_DEPTH} levels"
            await self._reject(send, Rejection(400, "too_deep", message))
            return
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
        except EventRefused as refused:  # the log refused this event alone; the rest of its batch committed
            log.warning("webhook refused", provider=self.provider, reason="unstorable", error=refused.error)
            await self._reject(send, Rejection(400, "unstorable", str(refused)))
            return
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
