"""monday.com: the challenge handshake, JWT-checked board webhooks, accounts, webhooks, board items."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hookline.providers.base import Provider, WebhookReceiver
from hookline.sealed import SealedColumn
from hookline.store.migrations import MigrationSource

if TYPE_CHECKING:
    import typer
    from starlette.routing import BaseRoute

    from hookline.automations.actions import Action
    from hookline.pipeline.handlers import EventHandler
    from hookline.retention.tables import ExportTable
    from hookline.runtime import Runtime
    from hookline.store.engine import Connection
    from hookline.web.dashboard.ui import Dashboard


class MondayProvider(Provider):
    name = "monday"

    def actions(self) -> list[Action]:
        from hookline.providers.monday.actions import ACTIONS

        return list(ACTIONS)

    def webhook_states(self, conn: Connection) -> dict[str, str]:
        from hookline.store.queries import load_queries

        return {str(a): "enabled" if int(n) else "none"
                for a, n in conn.fetchall(load_queries(__package__).webhook_counts)}

    def sealed_columns(self) -> list[SealedColumn]:
        return [
            SealedColumn("monday_accounts", "name", "token"),
            SealedColumn("monday_accounts", "name", "signing_secret"),
        ]

    def migrations(self) -> MigrationSource:
        return MigrationSource("monday", Path(__file__).parent / "migrations")

    def check_settings(self) -> None:
        from hookline.providers.monday.settings import load

        load()

    def receivers(self, runtime: Runtime) -> list[WebhookReceiver]:
        from hookline.providers.monday.accounts import AccountCache, box_for
        from hookline.providers.monday.receiver import MondayReceiver
        from hookline.providers.monday.settings import load

        cache = AccountCache(runtime.db, runtime.settings.token_cache_seconds, box_for(runtime.settings))
        runtime.state["monday.accounts"] = cache
        return [MondayReceiver(cache, load().jwt_leeway_seconds)]

    def exports(self) -> list[ExportTable]:
        from hookline.retention.tables import ExportTable

        return [ExportTable("board-items", "board_items", "updated_at", ("account", "item_id"))]

    def register_cli(self, app: typer.Typer) -> None:
        from hookline.providers.monday.cli import app as monday_app

        app.add_typer(monday_app, name="monday")

    def register_simulator(self, simulate: typer.Typer) -> None:
        from hookline.providers.monday.simulator import register

        register(simulate)

    def handlers(self, runtime: Runtime) -> list[EventHandler]:
        from hookline.providers.monday.board_items import BoardItemsProjection

        return [BoardItemsProjection()]

    def register_dashboard(self, ui: Dashboard) -> None:
        from hookline.providers.monday import dashboard

        dashboard.register(ui)

    def api_routes(self, runtime: Runtime) -> list[BaseRoute]:
        from hookline.providers.monday import oauth_install
        from hookline.providers.monday.board_items_api import routes

        return [*routes(runtime), *oauth_install.routes(runtime)]

    def openapi_paths(self) -> dict[str, Any]:
        from hookline.providers.monday.board_items_api import openapi_paths

        return openapi_paths()


provider = MondayProvider()
