"""docs/automations.md documents every automations setting, command and action."""

from __future__ import annotations

from hookline.automations.actions import registry
from hookline.automations.cli import alerts_app, rules_app, runs_app
from hookline.config import Settings
from hookline.providers.registry import providers
from tests.support import ROOT

DOC = (ROOT / "docs" / "automations.md").read_text()


def test_every_setting_command_and_action_is_documented() -> None:
    names = [n for n in Settings.model_fields if n.startswith("automations_")]
    assert len(names) >= 6 and [n for n in names if f"`{n}`" not in DOC] == []
    for group, app in (("rules", rules_app), ("runs", runs_app), ("alerts", alerts_app)):
        for command in app.registered_commands:
            assert f"{group} {command.name}" in DOC or f"| {command.name} " in DOC, (group, command.name)
    assert [a for a in registry(providers()) if f"`{a}`" not in DOC] == []


def test_the_worked_examples_are_rules_files_that_apply() -> None:
    import re

    from hookline.automations.rulefile import parse

    blocks = re.findall(r"```toml\n(.*?)```", DOC, re.DOTALL)
    examples = [b for b in blocks if "[[rules.steps]]" in b]
    assert len(examples) >= 4
    names = set()
    for block in examples:
        names |= {spec["name"] for spec in parse(block, registry(providers()))}
    assert {"crm-card", "vip-missed", "foreign-burst"} <= names
