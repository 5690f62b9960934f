"""Aircall: event catalog, token authentication, API client, projections, lifecycle, simulator."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hookline.providers.base import Provider, WebhookReceiver
from hookline.store.migrations import MigrationSource

if TYPE_CHECKING:
    import typer
    from starlette.routing import BaseRoute

    from hookline.pipeline.handlers import EventHandler
    from hookline.runtime import Runtime


class AircallProvider(Provider):
    name = "aircall"

    def migrations(self) -> MigrationSource:
        return MigrationSource("aircall", Path(__file__).parent / "migrations")

    def receivers(self, runtime: Runtime) -> list[WebhookReceiver]:
        from hookline.providers.aircall.receiver import AircallReceiver
        from hookline.providers.aircall.tokens import TokenCache

        cache = TokenCache(runtime.db, runtime.settings.token_cache_seconds)
        runtime.state["aircall.tokens"] = cache
        return [AircallReceiver(cache)]

    def handlers(self, runtime: Runtime) -> list[EventHandler]:
        from hookline.providers.aircall.projections import AircallProjections

        return [AircallProjections()]

    def api_routes(self, runtime: Runtime) -> list[BaseRoute]:
        from hookline.providers.aircall import projections_api

        return projections_api.routes(runtime)

    def register_cli(self, app: typer.Typer) -> None:
        from hookline.providers.aircall.cli import app as aircall_app

        app.add_typer(aircall_app, name="aircall")

    def register_simulator(self, simulate: typer.Typer) -> None:
        from hookline.providers.aircall.simulator.cli import simulate_aircall

        simulate.command("aircall")(simulate_aircall)


provider = AircallProvider()
