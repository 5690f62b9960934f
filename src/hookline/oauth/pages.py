"""The page an admin lands on at the end of an install: success, or what went wrong (never a secret)."""

from __future__ import annotations

import base64
import hashlib
from html import escape

from starlette.responses import HTMLResponse

_STYLE = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5}"
# Nothing runs on this page; its one style element is allowed by its hash.
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
_CSP = f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; frame-ancestors 'none'"
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{style}</style></head>
<body>
<h1>{title}</h1>
<p>{message}</p>
</body></html>
"""


def page(status: int, title: str, message: str) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(title=escape(title), message=escape(message), style=_STYLE),
        status_code=status,
        headers={"cache-control": "no-store", "content-security-policy": _CSP},
    )
