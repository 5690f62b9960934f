"""The page an admin lands on at the end of an install: success, or what went wrong (never a secret)."""

from __future__ import annotations

import base64
import hashlib
from html import escape

from starlette.responses import HTMLResponse

_STYLE = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5}"
# Nothing runs on this page; its one style element is allowed by its hash.
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
_CSP = f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; frame-ancestors 'none'; form-action 'self'"
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


_CHOICES = """<form method="post" action="{action}">
<input type="hidden" name="state" value="{state}">
<fieldset><legend>{legend}</legend>
{boxes}
</fieldset>
<p><button type="submit">{submit}</button></p>
</form>"""


def choice_page(title: str, message: str, *, action: str, state: str, legend: str,
                options: list[tuple[str, str]], submit: str) -> HTMLResponse:
    """A page with checkboxes (name="choice") posted back with a single-use state (the monday.com boards
    an installer picks). Every value is escaped; nothing runs on it."""
    boxes = "\n".join(
        f'<label><input type="checkbox" name="choice" value="{escape(value)}"> {escape(label)}</label><br>'
        for value, label in options
    ) or "<p>No boards.</p>"
    form = _CHOICES.format(action=escape(action), state=escape(state), legend=escape(legend), boxes=boxes,
                           submit=escape(submit))
    body = _PAGE.format(title=escape(title), message=escape(message), style=_STYLE)
    return HTMLResponse(body.replace("</body>", form + "\n</body>"), status_code=200,
                        headers={"cache-control": "no-store", "content-security-policy": _CSP})
