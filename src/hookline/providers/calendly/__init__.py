"""Calendly: signed webhooks, accounts and signing keys, subscriptions, watchdog and backfill, bookings."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from hookline.provider import WebhookReceiver
from hookline.providers.kit.provider import LaidOutProvider
from hookline.sealed import SealedColumn

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from hookline.automations.ready_rules import RuleTemplate
    from hookline.pipeline.handlers import EventHandler
    from hookline.retention.tables import ExportTable
    from hookline.runtime import Runtime
    from hookline.store.engine import Connection


class CalendlyProvider(LaidOutProvider):
    name = "calendly"
    api_module = "bookings_api"

    def rule_templates(self) -> list[RuleTemplate]:
        from hookline.providers.calendly.rule_templates import TEMPLATES

        return list(TEMPLATES)

    def webhook_states(self, conn: Connection) -> dict[str, str]:
        from hookline.store.queries import load_queries

        found: dict[str, set[str]] = {}
        for account, state in conn.fetchall(load_queries(__package__).subscription_states):
            found.setdefault(str(account), set()).add(str(state))
        # "enabled" only when every subscription hookline manages is active at Calendly's last check
        return {a: "enabled" if s == {"active"} else "disabled" for a, s in found.items()}

    def sealed_columns(self) -> list[SealedColumn]:
        return [
            SealedColumn("calendly_accounts", "name", "token"),
            SealedColumn("calendly_signing_keys", "id", "signing_key"),
        ]

    def receivers(self, runtime: Runtime) -> list[WebhookReceiver]:
        from hookline.providers.calendly.accounts import box_for
        from hookline.providers.calendly.keys import KeyCache
        from hookline.providers.calendly.receiver import CalendlyReceiver
        from hookline.providers.calendly.settings import load

        cache = KeyCache(runtime.db, runtime.settings.token_cache_seconds, box_for(runtime.settings))
        runtime.state["calendly.keys"] = cache
        return [CalendlyReceiver(cache, load().tolerance_seconds)]

    def exports(self) -> list[ExportTable]:
        from hookline.retention.tables import ExportTable

        return [ExportTable("bookings", "bookings", "start_time", ("account", "invitee_uri"))]

    def handlers(self, runtime: Runtime) -> list[EventHandler]:
        from hookline.providers.calendly.bookings import BookingsProjection

        return [BookingsProjection()]

    def api_routes(self, runtime: Runtime) -> list[BaseRoute]:
        from hookline.providers.calendly import oauth_install

        return [*super().api_routes(runtime), *oauth_install.routes(runtime)]

    def background_tasks(self, runtime: Runtime) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        from hookline.providers.calendly.accounts import box_for
        from hookline.providers.calendly.settings import load
        from hookline.providers.calendly.watchdog import run_forever

        cfg = load()
        box = box_for(runtime.settings)
        if cfg.watchdog_interval_seconds <= 0:
            return []

        async def watchdog() -> None:
            await run_forever(runtime.db, cfg, box)

        return [watchdog]


provider = CalendlyProvider()
