"""docs/forwarding.md documents every forwarding setting and command (a new one without docs fails here)."""

from __future__ import annotations

from hookline.config import Settings
from hookline.forwarding.cli import deliveries_app, destinations_app, events_app
from tests.support import ROOT

DOC = (ROOT / "docs" / "forwarding.md").read_text()


def test_every_forwarding_setting_is_documented() -> None:
    names = [n for n in Settings.model_fields if n.startswith(("delivery_", "forwarding_"))]
    assert len(names) >= 10
    assert [n for n in names if f"`{n}`" not in DOC] == []


def test_every_forwarding_command_is_documented() -> None:
    for group, app in (("destinations", destinations_app), ("deliveries", deliveries_app), ("events", events_app)):
        for command in app.registered_commands:
            assert f"hookline {group} {command.name}" in DOC, (group, command.name)
