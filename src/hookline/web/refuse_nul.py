"""Refuse NUL characters in /api paths and queries with a 400, on both engines alike.

PostgreSQL text cannot hold U+0000 (psycopg raises, which was a 500) while SQLite stores it, so a
filter such as `?account=%00` is refused here, before any handler builds a query from it.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Receive, Scope, Send

from hookline.web.responses import error


def has_nul(scope: Scope) -> bool:
    query = scope.get("query_string", b"").decode("latin-1")
    return "\x00" in scope["path"] or "\x00" in unquote_plus(query)


class RefuseNul:
    def __init__(self, app: ASGIApp, prefix: str = "/api") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and (scope["path"] == self.prefix or scope["path"].startswith(self.prefix + "/"))
            and has_nul(scope)
        ):
            response = error(400, "invalid_query", "the path and query may not contain NUL characters (%00)")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
