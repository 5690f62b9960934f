"""monday.com: the challenge handshake, JWT-checked board webhooks, accounts, webhooks, board items."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hookline.provider import WebhookReceiver
from hookline.providers.kit.provider import LaidOutProvider
from hookline.sealed import SealedColumn

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from hookline.automations.actions import Action
    from hookline.pipeline.handlers import EventHandler
    from hookline.retention.tables import ExportTable
    from hookline.runtime import Runtime
    from hookline.store.engine import Connection


class MondayProvider(LaidOutProvider):
    name = "monday"
    api_module = "board_items_api"

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

    def handlers(self, runtime: Runtime) -> list[EventHandler]:
        from hookline.providers.monday.board_items import BoardItemsProjection

        return [BoardItemsProjection()]

    def api_routes(self, runtime: Runtime) -> list[BaseRoute]:
        from hookline.providers.monday import oauth_install

        return [*super().api_routes(runtime), *oauth_install.routes(runtime)]


provider = MondayProvider()
