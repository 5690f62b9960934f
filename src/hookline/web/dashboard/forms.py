"""Reading the dashboard's POST forms (urlencoded, small) and refusing forged ones (CSRF)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request

from hookline.web.dashboard.session import Sessions
from hookline.web.dashboard.ui import session_of
from hookline.web.responses import JSON, error

MAX_FORM_BYTES = 16 * 1024


class FormRefused(Exception):
    def __init__(self, response: JSON) -> None:
        self.response = response


async def read_form(request: Request) -> dict[str, str]:
    """The form's fields (last value wins); FormRefused for anything but a small urlencoded body."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise FormRefused(error(415, "unsupported_media_type", "forms are application/x-www-form-urlencoded"))
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormRefused(error(413, "payload_too_large", f"form over {MAX_FORM_BYTES} bytes"))
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise FormRefused(error(400, "invalid_form", "form is not UTF-8")) from None
    return {k: v[-1] for k, v in fields.items()}


def same_origin(request: Request) -> bool:
    """A browser names the page that sent a POST in Origin; refuse one from elsewhere."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def checked_form(request: Request) -> dict[str, str]:
    """A form from a signed-in session with its CSRF token, from this origin; FormRefused otherwise."""
    if not same_origin(request):
        raise FormRefused(error(403, "csrf", "cross-origin form refused"))
    fields = await read_form(request)
    if not Sessions.csrf_ok(session_of(request), fields.get("csrf")):
        raise FormRefused(error(403, "csrf", "missing or invalid CSRF token: reload the page and try again"))
    return fields


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site (no scheme, no //host): no open redirect after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
