"""Assembles the ASGI app: webhook receivers first (raw ASGI, exact paths), then Starlette for the rest."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hookline.assembly import create_runtime
from hookline.automations import api as automations_api
from hookline.automations import dashboard as automations_pages
from hookline.automations.signals import SignInSignals
from hookline.config import Settings
from hookline.forwarding.dispatcher import dispatcher_loop
from hookline.ingest.endpoint import WebhookEndpoint
from hookline.oauth import dashboard as oauth_pages
from hookline.pipeline.loops import LoopFactory, LoopGroup, runtime_loops
from hookline.providers.registry import providers
from hookline.retention import dashboard as retention_pages
from hookline.runtime import Runtime
from hookline.web import dashboard, events_api, forwarding_api, health, jobs_api, openapi
from hookline.web.admin_token import AdminTokenVerifier
from hookline.web.auth import RequireAdmin
from hookline.web.dashboard.session import SessionLayer
from hookline.web.refuse_nul import RefuseNul
from hookline.web.responses import JSON, error
from hookline.web.security_headers import with_security_headers
from hookline.web.throttle import SignInThrottle

log = structlog.get_logger(__name__)

# The core's /api modules: each has routes(runtime) and openapi_paths() (providers: Provider hooks).
API_MODULES = (events_api, jobs_api, forwarding_api, automations_api)
# The features' dashboard pages, after the core's and before each provider's (web/ imports none of them).
DASHBOARD_PAGES = (automations_pages.register, oauth_pages.register, retention_pages.register)


class HooklineApp:
    """Routes webhook paths straight to their endpoint (the hot path skips all middleware)."""

    def __init__(self, webhooks: dict[str, WebhookEndpoint], rest: ASGIApp, runtime: Runtime) -> None:
        self.webhooks = webhooks
        self.rest = rest
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            send = with_security_headers(scope, send)
            endpoint = self.webhooks.get(scope["path"].rstrip("/") or "/")
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await self.rest(scope, receive, send)


async def _not_found(request: Request, exc: Exception) -> JSON:
    return error(404, "not_found", f"no route {request.url.path}")


async def _method_not_allowed(request: Request, exc: Exception) -> JSON:
    # Starlette's HTTPException carries the route's Allow header, which a 405 must send (RFC 9110).
    headers = getattr(exc, "headers", None)
    return error(
        405, "method_not_allowed", f"{request.method} not allowed on {request.url.path}", dict(headers or {}) or None
    )


async def _client_gone(request: Request, exc: Exception) -> Response:
    # The client left while its body was read (http_protocol.py closes a body too slow to arrive):
    # nobody to answer, nothing to log as an error.
    return Response(status_code=400)


async def _server_error(request: Request, exc: Exception) -> JSON:
    log.error("unhandled error", path=request.url.path, error=type(exc).__name__)
    return error(500, "internal", "internal error")


def serve_loops(runtime: Runtime) -> list[LoopFactory]:
    """The loops `serve` runs in one LoopGroup: the pipeline's (the job worker...) unless `serve
    --no-worker`, and the forwarding dispatcher unless HOOKLINE_FORWARDING_DISPATCHER=false (where
    `hookline dispatcher` runs it in a process of its own)."""
    factories = runtime_loops(runtime) if runtime.settings.worker else []
    if runtime.settings.forwarding_dispatcher:
        factories.append(dispatcher_loop)
    return factories


def create_app(settings: Settings) -> HooklineApp:
    runtime = create_runtime(settings, providers())
    webhooks: dict[str, WebhookEndpoint] = {}
    for provider in runtime.providers:
        for receiver in provider.receivers(runtime):
            webhooks[receiver.path] = WebhookEndpoint(receiver, runtime)

    verifier = AdminTokenVerifier(runtime.db, settings)
    throttle = SignInThrottle(settings.auth_failures_per_minute, runtime.metrics)
    throttle.on_failure = SignInSignals(runtime.db)  # failed sign-ins as events, for rules
    ui = dashboard.build(runtime, verifier, throttle, DASHBOARD_PAGES)
    routes: list[Any] = [*health.routes(runtime)]
    for module in API_MODULES:
        routes.extend(module.routes(runtime))
    for provider in runtime.providers:
        routes.extend(provider.api_routes(runtime))
    routes.extend(openapi.routes((m.openapi_paths() for m in API_MODULES), runtime.providers))
    routes.extend(ui.routes)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime.committer.start()
        factories = serve_loops(runtime)
        loops = LoopGroup(runtime, factories) if factories else None
        if loops is not None:
            loops.start()
        for provider in runtime.providers:
            for task in provider.background_tasks(runtime):
                runtime.tasks.append(asyncio.create_task(task(), name=f"{provider.name}-background"))
        for task in dashboard.feed_tasks(runtime):
            runtime.tasks.append(asyncio.create_task(task(), name="dashboard-changes"))
        log.info("hookline ready", database=runtime.db.url.redacted(), receivers=sorted(webhooks))
        try:
            yield
        finally:
            runtime.changes.close()  # open live streams end, so the server can stop
            if loops is not None:
                await loops.stop()  # finish the batch in hand (or hand it back) before the rest goes
            for t in runtime.tasks:
                t.cancel()
            await asyncio.gather(*runtime.tasks, return_exceptions=True)
            runtime.committer.stop()
            runtime.db.close()

    rest = Starlette(
        routes=routes,
        # The session layer runs first: a signed-in browser may read the admin API (GET) too.
        middleware=[
            Middleware(SessionLayer, sessions=ui.sessions),
            Middleware(RequireAdmin, verifier=verifier, throttle=throttle),
            Middleware(RefuseNul),
        ],
        lifespan=lifespan,
        exception_handlers={
            404: _not_found, 405: _method_not_allowed, 500: _server_error, ClientDisconnect: _client_gone
        },
    )
    rest.state.runtime = runtime
    ui.install(rest.state)
    return HooklineApp(webhooks, rest, runtime)
