"""Security headers on every response, error answers included (404, 405, 500, JSON errors, webhooks).

HooklineApp wraps `send` once per request, outside Starlette's error handling, so even the 500 that
Starlette's outermost layer writes gets them. A header a response sets itself (the dashboard's
page CSP, for instance) is kept. `Strict-Transport-Security` is added when the request came over
https: TLS served by hookline, or a trusted proxy's `X-Forwarded-Proto: https` (uvicorn's proxy
headers layer sets the scheme, for the addresses in HOOKLINE_FORWARDED_ALLOW_IPS).
"""

from __future__ import annotations

from starlette.types import Message, Scope, Send

# A year; no includeSubDomains: other hosts under the same domain are not ours to decide for.
HSTS = (b"strict-transport-security", b"max-age=31536000")
BASE = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    # JSON and errors run nothing; the dashboard's pages send their own, wider policy.
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
)
_WITH_HSTS = (*BASE, HSTS)
_NAMES = frozenset(name for name, _ in _WITH_HSTS)


def with_security_headers(scope: Scope, send: Send) -> Send:
    extra = _WITH_HSTS if scope.get("scheme") == "https" else BASE

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers") or []
            present = {name.lower() for name, _ in headers}
            if present.isdisjoint(_NAMES):  # the usual case (JSON answers): all of them
                message["headers"] = [*headers, *extra]
            else:
                message["headers"] = [*headers, *(h for h in extra if h[0] not in present)]
        await send(message)

    return wrapped
