"""Calendly: signed webhooks, accounts and signing keys, subscriptions, watchdog and backfill, bookings."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hookline.providers.base import Provider, WebhookReceiver
from hookline.sealed import SealedColumn
from hookline.store.migrations import MigrationSource

if TYPE_CHECKING:
    import typer
    from starlette.routing import BaseRoute

    from hookline.automations.ready_rules import RuleTemplate
    from hookline.pipeline.handlers import EventHandler
    from hookline.retention.tables import ExportTable
    from hookline.runtime import Runtime
    from hookline.store.engine import Connection
    from hookline.web.dashboard.ui import Dashboard


class CalendlyProvider(Provider):
    name = "calendly"

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

    def migrations(self) -> MigrationSource:
        return MigrationSource("calendly", Path(__file__).parent / "migrations")

    def check_settings(self) -> None:
        from hookline.providers.calendly.settings import load

        load()

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

    def register_cli(self, app: typer.Typer) -> None:
        from hookline.providers.calendly.cli import app as calendly_app

        app.add_typer(calendly_app, name="calendly")

    def register_simulator(self, simulate: typer.Typer) -> None:
        from hookline.providers.calendly.simulator import register

        register(simulate)

    def handlers(self, runtime: Runtime) -> list[EventHandler]:
        from hookline.providers.calendly.bookings import BookingsProjection

        return [BookingsProjection()]

    def register_dashboard(self, ui: Dashboard) -> None:
        from hookline.providers.calendly import dashboard

        dashboard.register(ui)

    def api_routes(self, runtime: Runtime) -> list[BaseRoute]:
        from hookline.providers.calendly import oauth_install
        from hookline.providers.calendly.bookings_api import routes

        return [*routes(runtime), *oauth_install.routes(runtime)]

    def openapi_paths(self) -> dict[str, Any]:
        from hookline.providers.calendly.bookings_api import openapi_paths

        return openapi_paths()

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
