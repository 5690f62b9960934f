"""/healthz (process up), /readyz (database reachable, schema current), /metrics (Prometheus)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hookline.runtime import Runtime
from hookline.store import migrations
from hookline.web.reads import in_thread, runtime_of
from hookline.web.responses import JSON


async def healthz(request: Request) -> JSON:
    return JSON({"status": "ok"})


def _pending(runtime: Runtime) -> int:
    return len(migrations.pending(runtime.db, runtime.migration_sources))


async def readyz(request: Request) -> JSON:
    try:
        waiting = await in_thread(_pending, runtime_of(request))
    except Exception as exc:
        return JSON(
            {"status": "unavailable", "database": "unreachable", "error": type(exc).__name__},
            status_code=503,
        )
    if waiting:
        return JSON({"status": "unavailable", "database": "ok", "pending_migrations": waiting}, status_code=503)
    return JSON({"status": "ok", "database": "ok", "pending_migrations": 0})


async def metrics(request: Request) -> Response:
    return Response(runtime_of(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)


ROUTES = [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]


def routes(runtime: Runtime) -> list[Route]:
    return ROUTES
