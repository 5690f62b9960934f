"""The rules file (TOML, `[[rules]]` tables): read and check every rule before anything is stored."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from hookline.automations.actions import Action
from hookline.automations.errors import RuleError
from hookline.automations.spec import check_rule


class RuleFileError(Exception):
    """The file as a whole is refused; `errors` lists every problem found (rule, field, position)."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


def parse(text: str, actions: Mapping[str, Action]) -> list[dict[str, Any]]:
    """Every rule checked and normalized; RuleFileError listing every bad rule otherwise."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError([f"not valid TOML: {exc}"]) from None
    extra = [k for k in doc if k != "rules"]
    if extra:
        raise RuleFileError([f"unknown top-level key {extra[0]!r}: a rules file holds [[rules]] tables"])
    raw = doc.get("rules", [])
    if not isinstance(raw, list):
        raise RuleFileError(["'rules' must be an array of tables ([[rules]])"])
    return parse_rules(raw, actions)


def parse_rules(raw: Sequence[Any], actions: Mapping[str, Action]) -> list[dict[str, Any]]:
    errors: list[str] = []
    specs: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            errors.append(f"rules[{i + 1}]: must be a table")
            continue
        try:
            spec = check_rule(item, actions)
        except RuleError as exc:
            errors.append(str(exc))
            continue
        if spec["name"] in names:
            errors.append(f"rule {spec['name']!r}, name: appears twice in the file")
            continue
        names.add(spec["name"])
        specs.append(spec)
    if errors:
        raise RuleFileError(errors)
    return specs
