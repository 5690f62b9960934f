"""Aircall: event catalog, token authentication, API client, projections, lifecycle, simulator."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hookline.providers.base import Provider, WebhookReceiver
from hookline.store.migrations import MigrationSource

if TYPE_CHECKING:
    import typer

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

    def forwarded_data(self, body: bytes) -> bytes:
        """Forwarded events carry the envelope's `data` (the resource), not the token-bearing envelope."""
        from hookline.providers.aircall.receiver import envelope_data

        return envelope_data(body)

    def register_cli(self, app: typer.Typer) -> None:
        from hookline.providers.aircall.cli import app as aircall_app

        app.add_typer(aircall_app, name="aircall")


provider = AircallProvider()
