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


def test_every_table_has_a_header_row() -> None:
    """A blank line inside a table starts a new one, whose rows then render without a header."""
    import re

    block: list[str] = []
    for line in [*DOC.splitlines(), ""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if block:
            assert len(block) >= 2 and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", block[1]), block[0]
        block = []


def test_the_admin_api_section_names_every_route() -> None:
    from hookline.automations.api import ROUTES

    section = DOC.split("## The admin API", 1)[1].split("\n## ", 1)[0].replace("\n", " ")
    for route in ROUTES:
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            assert f"`{method} {route.path}" in section, (method, route.path)


def test_every_rule_template_is_documented_as_one() -> None:
    from hookline.automations.ready_rules import registry as templates

    names = list(templates(providers()))
    assert "hookline-failed-sign-ins" in names
    assert [n for n in names if f"| `{n}` |" not in DOC] == []
    assert "not a template" not in DOC
