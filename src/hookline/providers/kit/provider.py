"""LaidOutProvider: the Provider hooks every provider laid out like Calendly and monday.com shares.

Such a provider's package holds:

    migrations/         its tables
    settings.py         load(): its TableSettings (HOOKLINE_<NAME>_* and the [<name>] table)
    cli.py              app: `hookline <name> ...`
    dashboard.py        register(ui): its pages
    <api_module>.py     routes(runtime) and openapi_paths(): its /api routes and their description

(its fake, hookline/testing/<name>/simulator.py, is attached as `hookline simulate <name>` by
hookline/cli/simulators.py: a provider never imports hookline.testing).
Its Provider object then names only what differs (receivers, handlers, exports, ...). Each module
is imported when its hook runs, not when hookline starts, as the hand-written hooks did.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from hookline.provider import Provider
from hookline.store.migrations import MigrationSource

if TYPE_CHECKING:
    import typer
    from starlette.routing import BaseRoute

    from hookline.config import TableSettings
    from hookline.runtime import Runtime
    from hookline.web.dashboard.ui import Dashboard


class LaidOutProvider(Provider):
    api_module: ClassVar[str]  # the module of its /api routes, e.g. "bookings_api"

    def _module(self, name: str) -> ModuleType:
        return import_module(f"{type(self).__module__}.{name}")

    def migrations(self) -> MigrationSource:
        package = import_module(type(self).__module__)
        return MigrationSource(self.name, Path(str(package.__file__)).parent / "migrations")

    def settings(self) -> TableSettings:
        loaded: TableSettings = self._module("settings").load()
        return loaded

    def register_cli(self, app: typer.Typer) -> None:
        app.add_typer(self._module("cli").app, name=self.name)

    def register_dashboard(self, ui: Dashboard) -> None:
        self._module("dashboard").register(ui)

    def api_routes(self, runtime: Runtime) -> list[BaseRoute]:
        return list(self._module(self.api_module).routes(runtime))

    def openapi_paths(self) -> dict[str, Any]:
        paths: dict[str, Any] = self._module(self.api_module).openapi_paths()
        return paths
