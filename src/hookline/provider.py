"""The Provider interface: what a provider plugs into the core.

The core never names a provider. It asks each registered provider, through these hooks (named for
when they are used), for its webhook receivers, migrations, CLI commands, admin API routes,
event handlers (run by pipeline workers), pipeline loops, dashboard pages and background tasks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from hookline.sealed import SealedColumn
from hookline.store.migrations import MigrationSource
from hookline.types import IncomingEvent

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


@dataclass(frozen=True)
class Reply:
    """An answer a receiver gives without storing anything (e.g. a verification handshake)."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


class WebhookReceiver(ABC):
    """Turns one HTTP request into an authenticated event, a Reply, or a Rejection (raised)."""

    provider: str
    path: str
    # Request headers worth keeping with the event, lower-case.
    stored_headers: tuple[str, ...] = ("content-type", "user-agent", "x-forwarded-for", "x-real-ip")

    @abstractmethod
    async def parse(self, headers: Mapping[str, str], body: bytes, received_at: float) -> IncomingEvent | Reply:
        """Authenticate and describe the event; raise hookline.types.Rejection to refuse it.

        `headers` are the request headers (lower-case names) plus the pseudo-header ":query", the
        raw query string of the request URL.
        """

    def event_label(self, event: str) -> str:
        """The metrics label for an event type: unknown types collapse so labels stay bounded."""
        return event


class Provider(ABC):
    name: str

    def migrations(self) -> MigrationSource | None:
        return None

    def receivers(self, runtime: Runtime) -> list[WebhookReceiver]:
        return []

    def register_cli(self, app: typer.Typer) -> None:
        """Add this provider's sub-commands to the root CLI."""

    def register_simulator(self, simulate: typer.Typer) -> None:
        """Add `hookline simulate <provider>` when the provider ships a local simulator."""

    def api_routes(self, runtime: Runtime) -> list[BaseRoute]:
        return []

    def openapi_paths(self) -> dict[str, Any]:
        """The OpenAPI path items of `api_routes` (helpers: hookline.web.openapi_parts).

        Served in /api/openapi.json; a test fails when a route is missing from it.
        """
        return {}

    def handlers(self, runtime: Runtime) -> list[EventHandler]:
        """What pipeline workers run on this provider's events (projections, ...), in this order."""
        return []

    def actions(self) -> list[Action]:
        """Actions this provider adds to rules' steps (named '<provider>.<verb>', e.g. 'aircall.comment').

        See hookline/automations/actions.py; the core's own actions register the same way.
        """
        return []

    def rule_templates(self) -> list[RuleTemplate]:
        """Ready-made rules this provider adds to `hookline rules templates` (hookline/automations/ready_rules.py)."""
        return []

    def forwarded_data(self, body: bytes) -> bytes:
        """The JSON text sent as `data` when one of this provider's events is forwarded to a destination.

        Default: the stored body itself when it is JSON, else the body as a JSON string.
        """
        try:
            msgspec.json.decode(body)
        except msgspec.DecodeError:
            return msgspec.json.encode(body.decode("utf-8", "replace"))
        return body

    def register_dashboard(self, ui: Dashboard) -> None:
        """Add pages to the dashboard: `ui.add_templates`, `ui.page`, `ui.add_nav`, `ui.add_section`."""

    def displayed_body(self, body: bytes) -> bytes:
        """A stored body as the dashboard's event log shows it: mask what is secret (default: as stored)."""
        return body

    def background_tasks(self, runtime: Runtime) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        """Long-running coroutines started with `serve` (e.g. a watchdog) and cancelled at shutdown."""
        return []

    def webhook_states(self, conn: Connection) -> dict[str, str]:
        """Per account, the state of the webhooks hookline made for it ("enabled", "disabled", "none"):
        the Installations page's column (default: not known)."""
        return {}

    def sealed_columns(self) -> list[SealedColumn]:
        """Columns of this provider's tables that hold SecretBox values: `hookline secrets rotate` re-seals them."""
        return []

    def settings(self) -> TableSettings | None:
        """The provider's own settings, read the same way for every provider: HOOKLINE_<NAME>_*
        variables, then the [<name>] table of hookline.toml (config.TableSettings). None: it has none."""
        return None

    def check_settings(self) -> None:
        """Read the provider's own settings, so that a bad one stops `serve` and `hookline worker`
        with a message before they start (raise hookline.config.SettingsError). Default: `settings()`."""
        self.settings()

    def exports(self) -> list[ExportTable]:
        """Projections `hookline export` can write (e.g. Aircall's calls), by kind name."""
        return []

    def retention_policies(self) -> list[Policy]:
        """Retention policies over this provider's tables (e.g. Aircall's call timeline)."""
        return []

    def loops(self, runtime: Runtime) -> list[LoopFactory]:
        """Loop factories run next to the job worker: in `serve` (unless --no-worker) and `hookline worker`.

        Same contract as pipeline/loops.py (Runtime.loops): work that follows from the pipeline's effects
        (e.g. downloads the projections asked for) and stops cleanly when its `stop` event is set.
        """
        return []
