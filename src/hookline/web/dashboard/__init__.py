"""The dashboard served by `hookline serve` at `/`: sessions, pages, the live stream, static files.

`build()` assembles it: the core's pages (sign-in, operations), then the features' pages it is given
(automations, installations, retention: listed by app.py, so web/ imports none of them), then each
provider's pages through `Provider.register_dashboard(ui)`. `feed_tasks()` are the coroutines that
bring other processes' changes into this one's ChangeFeed (LISTEN on PostgreSQL; a data_version poll
on SQLite when the worker runs in another process).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import State
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from hookline.runtime import Runtime
from hookline.web.admin_token import AdminTokenVerifier
from hookline.web.dashboard import core_pages, stream
from hookline.web.dashboard.session import Sessions
from hookline.web.dashboard.ui import HERE, Dashboard
from hookline.web.throttle import SignInThrottle


@dataclass
class Built:
    ui: Dashboard
    sessions: Sessions
    routes: list[BaseRoute]
    sign_in: core_pages.SignIn

    def install(self, state: State) -> None:
        """Where the pages find the dashboard and the sign-in pieces (`ui_of`, `sign_in_of`)."""
        state.dashboard = self.ui
        state.sign_in = self.sign_in


# A feature's pages: a `register(ui)` like Provider.register_dashboard.
PageRegistration = Callable[[Dashboard], None]


def build(
    runtime: Runtime, verifier: AdminTokenVerifier, throttle: SignInThrottle, pages: Iterable[PageRegistration] = ()
) -> Built:
    ui = Dashboard(runtime)
    cfg = runtime.settings
    sessions = Sessions(runtime.db, verifier, cfg.dashboard_session_cache_seconds, cfg.dashboard_session_idle_seconds)
    core_pages.register(ui)
    for register in pages:
        register(ui)
    for provider in runtime.providers:
        provider.register_dashboard(ui)
    ui.add_pages(stream.PAGES)
    routes: list[BaseRoute] = [
        *ui.routes,
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Built(ui, sessions, routes, core_pages.SignIn(sessions, verifier, throttle))


def feed_tasks(runtime: Runtime) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    import asyncio

    from hookline.pipeline import changes

    never = asyncio.Event  # the tasks are cancelled at shutdown; they need no stop signal of their own
    db = runtime.db
    if db.notifies:  # a worker in any process NOTIFYs its commits
        return [lambda: changes.listen_postgres(db.url.url, runtime.changes, never())]
    file = db.single_writer_file
    if not runtime.settings.worker and file is not None:  # no worker here: another process writes the file
        path = str(file)
        return [lambda: changes.poll_sqlite(path, runtime.changes, never())]
    return []


__all__ = ["Built", "Dashboard", "build", "feed_tasks"]
