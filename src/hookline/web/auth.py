"""Bearer authentication for everything under /api, throttled per client address (web/throttle.py)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from hookline.web.admin_token import AdminTokenVerifier
from hookline.web.responses import error
from hookline.web.throttle import SignInThrottle, client_address


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


class RequireAdmin:
    """ASGI middleware: /api/* needs `Authorization: Bearer <admin token>`; other paths pass through.

    Other layers (the dashboard's session cookie) may mark a request authenticated by setting
    scope["hookline.admin"] = True before this runs. An address with too many wrong tokens in the
    last minute gets 429 without its token being looked at.
    """

    def __init__(
        self, app: ASGIApp, verifier: AdminTokenVerifier, throttle: SignInThrottle, prefix: str = "/api"
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.throttle = throttle
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and (scope["path"] == self.prefix or scope["path"].startswith(self.prefix + "/"))
            and not scope.get("hookline.admin")
        ):
            address = client_address(scope)
            wait = self.throttle.retry_after(address)
            if wait is not None:
                self.throttle.refused("api")
                response = error(
                    429,
                    "too_many_attempts",
                    f"too many wrong admin tokens from {address}; try again in {wait} s",
                    {"retry-after": str(wait)},
                )
                await response(scope, receive, send)
                return
            presented = bearer_token(scope)
            if not self.verifier.verify(presented):
                if presented:  # a guess, not a client that forgot its token
                    self.throttle.failed(address, scope["path"], "api")
                response = error(
                    401,
                    "unauthorized",
                    "admin token required: Authorization: Bearer <token>",
                    {"www-authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
