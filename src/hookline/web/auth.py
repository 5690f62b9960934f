"""Bearer authentication for everything under /api."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from hookline.web.admin_token import AdminTokenVerifier
from hookline.web.responses import error


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


class RequireAdmin:
    """ASGI middleware: /api/* needs `Authorization: Bearer <admin token>`; other paths pass through.

    Other layers (the dashboard's session cookie) may mark a request authenticated by setting
    scope["hookline.admin"] = True before this runs.
    """

    def __init__(self, app: ASGIApp, verifier: AdminTokenVerifier, prefix: str = "/api") -> None:
        self.app = app
        self.verifier = verifier
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and (scope["path"] == self.prefix or scope["path"].startswith(self.prefix + "/"))
            and not scope.get("hookline.admin")
            and not self.verifier.verify(bearer_token(scope))
        ):
            response = error(
                401,
                "unauthorized",
                "admin token required: Authorization: Bearer <token>",
                {"www-authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
