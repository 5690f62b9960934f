"""The page an admin lands on at the end of an install: success, or what went wrong (never a secret)."""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>{title}</h1>
<p>{message}</p>
</body></html>
"""


def page(status: int, title: str, message: str) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(title=escape(title), message=escape(message)),
        status_code=status,
        headers={"cache-control": "no-store"},
    )
