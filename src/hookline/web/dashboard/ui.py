"""The dashboard's registry and renderer: pages, navigation, operations sections, templates.

Built-in pages and providers' pages register the same way: a provider's `register_dashboard(ui)`
hook adds its template folder, its routes (through `ui.page`) and its navigation entries, and may
add a section to the operations page. Pages render through `ui.render`, which wraps them in the
layout, passes the CSRF token and sets the security headers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from hookline.runtime import Runtime
from hookline.store.engine import Connection
from hookline.timeparse import iso
from hookline.web.dashboard.session import Session
from hookline.web.reads import in_thread, read
from hookline.web.refuse_nul import has_nul
from hookline.web.responses import error

HERE = Path(__file__).parent
# Everything the pages use comes from this origin; no inline script or style.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self';"
    " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}

Endpoint = Callable[[Request], Awaitable[Response]]
Section = Callable[[Request], Awaitable[Markup]]


@dataclass(frozen=True)
class NavEntry:
    label: str
    path: str
    order: int = 50
    # Asked on each page view (in a thread): False hides the entry, e.g. a provider with no account.
    shown: Callable[[Connection], bool] | None = None


@dataclass(frozen=True)
class AccountRow:
    """One account on the operations page."""

    name: str
    hooks: str  # e.g. "2 subscriptions"
    state: str  # active | disabled | no webhook ...
    last_event_at: float | None
    note: str = ""


@dataclass(frozen=True)
class Page:
    """One row of a module's pages table: a module-level endpoint and where it answers.

    A page needs a session unless `public` (sign-in); a `fragment` answers 401 JSON instead of
    sending the browser to sign in."""

    path: str
    endpoint: Endpoint
    methods: list[str] | None = None
    fragment: bool = False
    public: bool = False


def ui_of(request: Request) -> Dashboard:
    """The dashboard (templates, navigation, sections), kept on the app's state by `dashboard.build`."""
    ui: Dashboard = request.app.state.dashboard
    return ui


def session_of(request: Request) -> Session | None:
    session: Session | None = request.scope.get("hookline.session")
    return session


def _finite(value: object) -> bool:
    """A number a filter can format: not None, not a bool, not NaN or an infinity."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)


def when(ts: float | str | None) -> str:
    """Unix seconds (or an ISO 8601 UTC text, as the JSON serialisers give) as a short UTC time for tables."""
    if ts is None or ts == "":
        return ""
    text = ts if isinstance(ts, str) else iso(ts) or ""
    return text[:19].replace("T", " ")


def next_page(q: Mapping[str, str], cursor: int | str) -> str:
    """The query string of the next page: the same filters, the next cursor."""
    return urlencode({**{k: v for k, v in q.items() if k != "cursor"}, "cursor": cursor})


def ago(ts: float | None, now: float | None = None) -> str:
    if ts is None or not _finite(ts):  # a NaN/infinity stored by an older version: nothing to show
        return ""
    seconds = int((now if now is not None else time.time()) - ts)
    if seconds < 0:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def clock(seconds: float | int | None) -> str:
    """A duration as h:mm:ss or m:ss."""
    if seconds is None or not _finite(seconds):
        return ""
    s = int(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class Dashboard:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.routes: list[BaseRoute] = []
        self.nav: list[NavEntry] = []
        self.sections: list[tuple[str, Section]] = []
        self.event_log_notes: list[Section] = []  # lines above the event log (e.g. what retention keeps)
        self.home: str | None = None
        self._loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(HERE / "templates")]
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(self._loaders),
            autoescape=True,  # everything from a payload is attacker-controlled
            undefined=jinja2.ChainableUndefined,  # a payload missing a field renders empty
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(when=when, ago=ago, clock=clock)

    # --- registration ------------------------------------------------------------------------

    def add_templates(self, folder: Path) -> None:
        """A provider's templates (name them under a folder of its own: 'aircall/live.html')."""
        self._loaders.append(jinja2.FileSystemLoader(folder))

    def add_nav(
        self, label: str, path: str, order: int = 50, shown: Callable[[Connection], bool] | None = None
    ) -> None:
        """A navigation entry; with `shown`, only while it answers True (the page stays reachable)."""
        self.nav.append(NavEntry(label, path, order, shown))
        self.nav.sort(key=lambda n: n.order)

    def _visible_nav(self) -> list[NavEntry]:
        with self.runtime.db.connection() as conn:
            return [n for n in self.nav if n.shown is None or n.shown(conn)]

    def add_section(self, title: str, section: Section) -> None:
        """A block of the operations page (e.g. a provider's webhook state per account)."""
        self.sections.append((title, section))

    def add_event_log_note(self, note: Section) -> None:
        """A line shown above the event log (retention: how much is stored and what it will delete)."""
        self.event_log_notes.append(note)

    def add_accounts_section(
        self, title: str, rows: Callable[[Connection], list[AccountRow]], hooks_label: str, empty: str
    ) -> None:
        """The usual operations block: one row per account of a provider (`rows(conn)`, read in a thread)."""
        table_id = "accounts-" + "".join(ch if ch.isalnum() else "-" for ch in title.lower())

        async def section(request: Request) -> Markup:
            found = await read(request, rows)
            return self.fragment("_accounts.html", accounts=found, hooks_label=hooks_label, empty=empty,
                                 table_id=table_id)

        self.add_section(title, section)

    def set_home(self, path: str) -> None:
        """Where `/` leads once signed in (the first provider to ask wins)."""
        self.home = self.home or path

    def page(self, path: str, endpoint: Endpoint, methods: list[str] | None = None, *, fragment: bool = False) -> None:
        """A route that needs a session: pages send a browser to sign in, fragments get 401 JSON."""

        async def guarded(request: Request) -> Response:
            if session_of(request) is None:
                if fragment or request.method != "GET":
                    return error(401, "unauthorized", "sign in first")
                return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
            if has_nul(request.scope):  # pages build queries from the path and query too (see refuse_nul)
                return error(400, "invalid_query", "the path and query may not contain NUL characters (%00)")
            if not fragment and any(n.shown for n in self.nav):
                request.scope["hookline.nav"] = await in_thread(self._visible_nav)
            response = await endpoint(request)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        self.routes.append(Route(path, guarded, methods=methods))

    def add_pages(self, pages: list[Page], nav: list[NavEntry] | None = None) -> None:
        """A module's pages table and its navigation entries."""
        for page in pages:
            if page.public:
                self.routes.append(Route(page.path, _with_headers(page.endpoint), methods=page.methods))
            else:
                self.page(page.path, page.endpoint, page.methods, fragment=page.fragment)
        for entry in nav or []:
            self.add_nav(entry.label, entry.path, entry.order, entry.shown)

    # --- rendering ---------------------------------------------------------------------------

    def render(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        session = session_of(request)
        html = self.env.get_template(template).render(
            request=request,
            path=request.url.path,
            nav=request.scope.get("hookline.nav", self.nav),
            csrf=session.csrf if session else "",
            signed_in=session is not None,
            **context,
        )
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def fragment(self, template: str, **context: Any) -> Markup:
        return Markup(self.env.get_template(template).render(**context))  # noqa: S704 - autoescaped


def _with_headers(endpoint: Endpoint) -> Endpoint:
    """A page without a session (sign-in) still gets the pages' security headers."""

    async def with_headers(request: Request) -> Response:
        response = await endpoint(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return with_headers
