"""Aircall: event catalog, token authentication, API client, projections, lifecycle."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hookline.provider import Provider, WebhookReceiver
from hookline.sealed import SealedColumn
from hookline.store.migrations import MigrationSource

if TYPE_CHECKING:
    import typer
    from starlette.routing import BaseRoute

    from hookline.automations.actions import Action
    from hookline.automations.ready_rules import RuleTemplate
    from hookline.config import TableSettings
    from hookline.pipeline.handlers import EventHandler
    from hookline.pipeline.loops import LoopFactory
    from hookline.retention.policies import Policy
    from hookline.retention.tables import ExportTable
    from hookline.runtime import Runtime
    from hookline.store.engine import Connection
    from hookline.web.dashboard.ui import Dashboard


class AircallProvider(Provider):
    name = "aircall"

    def webhook_states(self, conn: Connection) -> dict[str, str]:
        from hookline.store.queries import load_queries

        q = load_queries(__package__)
        return {str(a): "disabled" if int(off) else "enabled" if int(n) else "none"
                for a, n, off in conn.fetchall(q.webhook_states)}

    def sealed_columns(self) -> list[SealedColumn]:
        return [SealedColumn("aircall_accounts", "name", "secret")]

    def migrations(self) -> MigrationSource:
        return MigrationSource("aircall", Path(__file__).parent / "migrations")

    def receivers(self, runtime: Runtime) -> list[WebhookReceiver]:
        from hookline.providers.aircall.receiver import AircallReceiver
        from hookline.providers.aircall.tokens import TokenCache

        cache = TokenCache(runtime.db, runtime.settings.token_cache_seconds)
        runtime.state["aircall.tokens"] = cache  # an OAuth install expires it: the new webhook's events pass at once
        return [AircallReceiver(cache)]

    def handlers(self, runtime: Runtime) -> list[EventHandler]:
        from hookline.providers.aircall.oauth_uninstall import IntegrationDeleted
        from hookline.providers.aircall.projections import AircallProjections
        from hookline.providers.aircall.recordings import RecordingRequests
        from hookline.providers.aircall.settings import load_recordings_settings

        found: list[EventHandler] = [AircallProjections(), IntegrationDeleted()]
        if load_recordings_settings().dir is not None:  # no directory: nothing is wanted
            found.append(RecordingRequests())
        return found

    def settings(self) -> TableSettings:
        from hookline.providers.aircall.settings import load_aircall_settings

        return load_aircall_settings()

    def check_settings(self) -> None:
        from hookline.providers.aircall.settings import load_recordings_settings

        self.settings()
        load_recordings_settings()

    def loops(self, runtime: Runtime) -> list[LoopFactory]:
        from hookline.providers.aircall.archiver import archiver_loop_factory
        from hookline.providers.aircall.settings import load_aircall_settings, load_recordings_settings

        cfg = load_recordings_settings()
        if cfg.dir is None:
            return []
        return [archiver_loop_factory(load_aircall_settings().api_url, cfg)]

    def api_routes(self, runtime: Runtime) -> list[BaseRoute]:
        from hookline.providers.aircall import oauth_routes, projections_api, recordings_api

        # The OAuth install pages are public (not under /api): Aircall sends a customer's admin there.
        return [*projections_api.routes(runtime), *recordings_api.routes(runtime), *oauth_routes.routes(runtime)]

    def register_dashboard(self, ui: Dashboard) -> None:
        from hookline.providers.aircall.dashboard import pages

        pages.register(ui)

    def actions(self) -> list[Action]:
        from hookline.providers.aircall.actions import ACTIONS

        return list(ACTIONS)

    def rule_templates(self) -> list[RuleTemplate]:
        from hookline.providers.aircall.rule_templates import TEMPLATES

        return list(TEMPLATES)

    def displayed_body(self, body: bytes) -> bytes:
        """The body with its webhook token masked (the token authenticates Aircall's requests)."""
        from hookline.providers.aircall.receiver import masked_token_body

        return masked_token_body(body)

    def openapi_paths(self) -> dict[str, Any]:
        from hookline.providers.aircall import projections_openapi, recordings_openapi

        return {**projections_openapi.openapi_paths(), **recordings_openapi.openapi_paths()}

    def forwarded_data(self, body: bytes) -> bytes:
        """Forwarded events carry the envelope's `data` (the resource), not the token-bearing envelope."""
        from hookline.providers.aircall.receiver import envelope_data

        return envelope_data(body)

    def background_tasks(self, runtime: Runtime) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        from hookline.providers.aircall.settings import load_aircall_settings

        cfg = load_aircall_settings()
        if cfg.watchdog_interval <= 0:
            return []

        async def watchdog() -> None:
            from prometheus_client import Counter

            from hookline.providers.aircall.accounts import AccountStore
            from hookline.providers.aircall.backfill import CommitterSink
            from hookline.providers.aircall.watchdog import Watchdog
            from hookline.providers.kit.credentials import box_for

            registry = runtime.metrics.registry
            reenabled = Counter(
                "hookline_aircall_webhooks_reenabled",
                "Aircall webhooks the watchdog found inactive and re-enabled",
                ["account"],
                registry=registry,
            )
            errors = Counter(
                "hookline_aircall_watchdog_errors",
                "Watchdog failures (API, credentials)",
                ["account"],
                registry=registry,
            )
            backfilled = Counter(
                "hookline_aircall_backfill_events",
                "New events written by watchdog backfills",
                ["account"],
                registry=registry,
            )
            dog = Watchdog(
                runtime.db,
                AccountStore(runtime.db, box_for(runtime.settings)),
                CommitterSink(runtime.committer),
                api_url=cfg.api_url,
                public_url=runtime.settings.public_url,
                margin=cfg.backfill_margin,
                max_lookback=cfg.backfill_max_lookback,
                on_reenabled=lambda account: reenabled.labels(account).inc(),
                on_error=lambda account: errors.labels(account).inc(),
                on_backfill=lambda account, new: backfilled.labels(account).inc(new),
            )
            await dog.run_forever(cfg.watchdog_interval)

        return [watchdog]

    def exports(self) -> list[ExportTable]:
        from hookline.providers.aircall.nested import expand_export
        from hookline.retention.tables import ExportTable

        return [ExportTable("calls", "aircall_calls", "started_at", ("account", "id"), expand_export, {"data": "text"})]

    def retention_policies(self) -> list[Policy]:
        from hookline.retention.policies import Policy

        # Timeline rows are a projection's detail: old ones can go, the calls stay.
        timeline = ("aircall_call_timeline", "timestamp", "1 = 1", "account, call_id, event_id")
        return [Policy("timeline", "timeline_days", *timeline)]

    def register_cli(self, app: typer.Typer) -> None:
        from hookline.providers.aircall.cli import app as aircall_app

        app.add_typer(aircall_app, name="aircall")


provider = AircallProvider()
