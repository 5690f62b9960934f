"""Every Calendly and monday.com setting and command is documented (a test fails otherwise)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer

from hookline.providers.calendly.cli import app as calendly_cli
from hookline.providers.calendly.settings import CalendlySettings
from hookline.providers.monday.cli import app as monday_cli
from hookline.providers.monday.settings import MondaySettings
from tests.support import ROOT


def commands(app: typer.Typer, prefix: str) -> Iterator[str]:
    for command in app.registered_commands:
        yield f"{prefix} {command.name}"
    for group in app.registered_groups:
        assert group.typer_instance is not None
        yield from commands(group.typer_instance, f"{prefix} {group.name}")


@pytest.mark.parametrize(
    ("name", "cli", "settings"),
    [("calendly", calendly_cli, CalendlySettings), ("monday", monday_cli, MondaySettings)],
)
def test_settings_and_commands_are_documented(name: str, cli: typer.Typer, settings: type) -> None:
    doc = (ROOT / "docs" / "providers" / f"{name}.md").read_text()
    for field in settings.model_fields:
        assert f"HOOKLINE_{name.upper()}_{field.upper()}" in doc, field
    found = list(commands(cli, f"hookline {name}"))
    assert len(found) >= 7
    for command in found:
        assert command in doc, command
    assert f"hookline simulate {name}" in doc
