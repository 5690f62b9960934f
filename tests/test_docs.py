"""A setting or command that is not in the README is a bug (Datasette's rule)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

from hookline.cli import app
from hookline.config import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def command_paths(group: Any, prefix: str = "hookline") -> list[str]:
    found = []
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}"
        if hasattr(cmd, "commands"):  # a group
            found += command_paths(cmd, path)
        else:
            found.append(path)
    return found


def test_every_setting_is_documented() -> None:
    missing = [f"HOOKLINE_{name.upper()}" for name in Settings.model_fields if f"HOOKLINE_{name.upper()}" not in README]
    assert not missing, f"undocumented settings: {missing}"


def test_every_command_is_documented() -> None:
    root = typer.main.get_command(app)
    paths = command_paths(root)
    assert "hookline serve" in paths and "hookline aircall token add" in paths
    missing = [p for p in paths if not re.search(re.escape(p) + r"\b", README)]
    assert not missing, f"undocumented commands: {missing}"


def test_every_provider_setting_is_documented() -> None:
    from hookline.providers.aircall.settings import AircallSettings, RecordingsSettings
    from hookline.retention.settings import RetentionSettings

    missing = [
        f"{prefix}{name.upper()}"
        for cls in (AircallSettings, RecordingsSettings, RetentionSettings)
        for prefix in [str(cls.model_config.get("env_prefix"))]
        for name in cls.model_fields
        if f"{prefix}{name.upper()}" not in README
    ]
    assert not missing, f"undocumented settings: {missing}"
