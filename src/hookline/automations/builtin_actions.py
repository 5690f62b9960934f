"""The core's actions: `http` (a request whose answer later steps read), `alert`, `notify` (Apprise),
`forward` (to a named destination, through forwarding's queue).

They register exactly like a provider's (actions.registry), and follow one rule for failures: a
network error, a 5xx or a 429 is retried (Retry-After honoured), any other 4xx fails the run at once
with the response kept.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import msgspec

from hookline.automations.actions import Action, ActionContext, ActionFailed, StepResult, failed_http
from hookline.automations.masking import SECRET_HEADER
from hookline.automations.templates import is_template
from hookline.outbound import refusal, without_credentials
from hookline.retry_after import parse_retry_after
from hookline.store.events import event_time
from hookline.store.queries import load_queries

Q = load_queries(__package__)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
SEVERITIES = ("info", "warning", "critical")
_MAX_BODY = 1024 * 1024
_FORWARD_LOCK = 728_115_014  # the advisory-lock namespace of `forward`


def _http_url(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{field}: must be a string")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{field}: {value[:100]!r} is not an http:// or https:// URL")
    return value


class HttpAction(Action):
    name = "http"
    required = ("url",)
    optional = ("method", "headers", "json", "body")

    def check(self, params: Mapping[str, Any]) -> None:
        method = params.get("method", "GET")
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise ValueError(f"method: one of {', '.join(METHODS)}")
        url = params["url"]
        if isinstance(url, str) and not is_template(url):
            _http_url("url", url)
        headers = params.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ValueError("headers: a table of strings")
        if "json" in params and "body" in params:
            raise ValueError("body: give either json or body, not both")
        if "body" in params and not isinstance(params["body"], str):
            raise ValueError("body: must be a string (use json for a structure)")

    def preview(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The request as runs record it: credentials in headers and in the URL's userinfo masked."""
        url = without_credentials(str(params["url"]))  # user:***@, and a lone TOKEN@ as ***@
        out: dict[str, Any] = {"method": str(params.get("method", "GET")).upper(), "url": url}
        if "headers" in params:
            out["headers"] = {k: ("***" if SECRET_HEADER.search(k) else v) for k, v in params["headers"].items()}
        for key in ("json", "body"):
            if key in params:
                out[key] = params[key]
        return out

    async def run(self, params: Mapping[str, Any], ctx: ActionContext) -> StepResult:
        request = self.preview(params)
        method = request["method"]
        try:
            url = _http_url("url", params["url"])
        except ValueError as exc:
            raise ActionFailed(str(exc), retryable=False, request=request) from None
        kwargs: dict[str, Any] = {"headers": dict(params.get("headers") or {})}
        if "json" in params:
            kwargs["data"] = msgspec.json.encode(params["json"])
            kwargs["headers"].setdefault("Content-Type", "application/json")
        elif "body" in params:
            kwargs["data"] = str(params["body"]).encode()
        try:
            async with ctx.session.request(
                method, url, timeout=aiohttp.ClientTimeout(total=ctx.timeout), **kwargs
            ) as resp:
                raw = await resp.content.read(_MAX_BODY)
                status, retry_after = resp.status, resp.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as exc:
            refused = refusal(exc)  # the outbound policy: a denied address is final, nothing was sent
            if refused is not None:
                raise ActionFailed(f"not sent: {refused}", retryable=False, request=request) from None
            raise ActionFailed(f"{method} {urlsplit(url).hostname}: {type(exc).__name__}",
                               retryable=True, request=request) from None
        text = raw.decode("utf-8", "replace")
        if not 200 <= status < 300:
            raise failed_http(status, text, retry_after=parse_retry_after(retry_after, time.time()), request=request)
        try:
            decoded = msgspec.json.decode(raw) if raw else None
        except msgspec.DecodeError:
            decoded = None
        return StepResult(status=status, json=decoded, text=text, request=request)


class AlertAction(Action):
    """Opens an alert, one per rule and window key while open; when it was open already the run stops
    here, so the steps after it (a notification) run once per alert, not once per event."""

    name = "alert"
    required = ("title",)
    optional = ("severity",)

    def check(self, params: Mapping[str, Any]) -> None:
        severity = params.get("severity", "warning")
        if severity not in SEVERITIES:
            raise ValueError(f"severity: one of {', '.join(SEVERITIES)}")

    async def run(self, params: Mapping[str, Any], ctx: ActionContext) -> StepResult:
        from hookline.automations import alerts

        run = ctx.run
        severity = str(params.get("severity", "warning"))
        title = str(params["title"])[:500]

        def record() -> tuple[int, bool]:
            with ctx.runtime.db.connection() as conn, conn.transaction():
                return alerts.open_or_count(conn, run.rule_name, run.window_key, severity, title, run.event_id)

        alert_id, opened = await asyncio.to_thread(record)
        request = {"severity": severity, "title": title, "window_key": run.window_key}
        return StepResult(json={"id": alert_id, "opened": opened}, text=title, request=request, stop=not opened)


class NotifyAction(Action):
    """A message through Apprise (Slack, Teams, Discord, e-mail, ntfy, PagerDuty, json://...)."""

    name = "notify"
    required = ("url",)
    optional = ("title", "body")

    def check(self, params: Mapping[str, Any]) -> None:
        url = params["url"]
        if not isinstance(url, str):
            raise ValueError("url: an Apprise URL such as slack://... or json://host/path")
        if not is_template(url) and "://" not in url:
            raise ValueError(f"url: {url[:60]!r} is not an Apprise URL (scheme://...)")

    def preview(self, params: Mapping[str, Any]) -> dict[str, Any]:
        # Apprise URLs carry their credentials: only the scheme is recorded.
        scheme = str(params["url"]).split("://", 1)[0]
        return {"url": f"{scheme}://…", "title": params.get("title", ""), "body": params.get("body", "")}

    async def run(self, params: Mapping[str, Any], ctx: ActionContext) -> StepResult:
        request = self.preview(params)
        body = str(params.get("body") or params.get("title") or "")
        title = str(params.get("title", ""))

        def send() -> bool | None:
            import apprise

            sender = apprise.Apprise()
            if not sender.add(str(params["url"])):
                return None
            return bool(sender.notify(body=body or " ", title=title))

        sent = await asyncio.to_thread(send)
        if sent is None:
            raise ActionFailed(f"Apprise does not understand the URL ({request['url']})", retryable=False,
                               request=request)
        if not sent:
            raise ActionFailed("the notification was not delivered", retryable=True, request=request)
        return StepResult(status=None, text="sent", request=request)


class ForwardAction(Action):
    """The event to a named forwarding destination, signed as forwarding signs everything: a delivery
    row the dispatcher sends with its own retries and breaker (docs/forwarding.md). Idempotent: when
    the destination already has a delivery of this event (its filters took it, or a resumed run), no
    second one is made."""

    name = "forward"
    required = ("destination",)

    async def run(self, params: Mapping[str, Any], ctx: ActionContext) -> StepResult:
        from hookline.forwarding import deliveries
        from hookline.forwarding.destinations import notify
        from hookline.forwarding.dispatcher import WAKE_KEY

        name = str(params["destination"])
        request = {"destination": name}

        def queue() -> tuple[int | None, bool]:
            with ctx.runtime.db.connection() as conn, conn.transaction():
                dest = conn.scalar(Q.forward_destination, (name,))
                if dest is None:
                    return None, False
                # Two runs forwarding the same event: one at a time (other processes too, on PostgreSQL).
                conn.lock_until_commit(_FORWARD_LOCK, f"{dest}:{ctx.run.event_id}")
                if conn.scalar(Q.delivery_of_event, (dest, ctx.run.event_id)) is not None:
                    return int(dest), False
                when = event_time(conn, ctx.run.event_id)
                now = time.time()
                deliveries.insert(conn, [deliveries.NewDelivery(int(dest), ctx.run.event_id, "live", None,
                                                                float(when or now), now)])
                notify(conn)
                return int(dest), True

        dest_id, queued = await asyncio.to_thread(queue)
        if dest_id is None:
            raise ActionFailed(f"no destination named {name!r}", retryable=False, request=request)
        wake = ctx.runtime.state.get(WAKE_KEY)
        if queued and wake is not None:
            wake()
        return StepResult(json={"destination": name, "queued": queued}, text="queued" if queued else "already queued",
                          request=request)


BUILTIN: tuple[Action, ...] = (HttpAction(), AlertAction(), NotifyAction(), ForwardAction())
