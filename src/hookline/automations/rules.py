"""The rules table: create/update from a file (atomically), list, get, enable, disable, remove."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import msgspec

from hookline.automations.masking import masked_spec
from hookline.store.engine import Connection
from hookline.store.queries import load_queries

Q = load_queries(__package__)


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    spec: dict[str, Any]
    enabled: bool
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Rule:
        return cls(int(row[0]), row[1], msgspec.json.decode(row[2]), bool(row[3]), float(row[4]), float(row[5]))

    def masked(self) -> Rule:
        """The rule as every listing shows it: credentials masked (masking.py); `export` keeps them."""
        return replace(self, spec=masked_spec(self.spec))

    def as_json(self) -> dict[str, Any]:
        """The listing shape (CLI --json, /api/rules, dashboard), credentials masked."""
        spec = masked_spec(self.spec)
        return {"id": self.id, "name": self.name, "enabled": self.enabled, "mode": self.spec.get("mode", "live"),
                "on": spec["on"], "created_at": self.created_at, "updated_at": self.updated_at,
                "spec": spec}


def list_rules(conn: Connection, *, enabled_only: bool = False) -> list[Rule]:
    return [Rule.from_row(r) for r in conn.fetchall(Q.enabled_rules if enabled_only else Q.all_rules)]


def get(conn: Connection, name: str) -> Rule | None:
    row = conn.fetchone(Q.rule_by_name, (name,))
    return None if row is None else Rule.from_row(row)


@dataclass
class ApplyResult:
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]

    def as_json(self) -> dict[str, list[str]]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "removed": self.removed}


def apply(conn: Connection, specs: Sequence[dict[str, Any]], *, prune: bool, write: bool) -> ApplyResult:
    """Create or update every rule (call inside one transaction); `write=False` only says what would change.

    A rule's `enabled` in the file wins when given; otherwise the stored state is kept, so `rules
    disable` survives the next apply of a file that does not mention it.
    """
    now = time.time()
    existing = {r.name: r for r in list_rules(conn)}
    result = ApplyResult([], [], [], [])
    for spec in specs:
        stored = {k: v for k, v in spec.items() if k != "enabled"}
        old = existing.get(spec["name"])
        if old is None:
            result.created.append(spec["name"])
            if write:
                conn.execute(
                    Q.add_rule,
                    (spec["name"], msgspec.json.encode(stored).decode(), spec.get("enabled", True), now, now),
                )
            continue
        enabled = spec.get("enabled", old.enabled)
        if old.spec == stored and old.enabled == enabled:
            result.unchanged.append(spec["name"])
            continue
        result.updated.append(spec["name"])
        if write:
            conn.execute(
                Q.update_rule,
                (msgspec.json.encode(stored).decode(), enabled, now, old.id),
            )
    if prune:
        wanted = {s["name"] for s in specs}
        for name in sorted(set(existing) - wanted):
            result.removed.append(name)
            if write:
                conn.execute(Q.remove_rule, (name,))
    return result


def set_enabled(conn: Connection, name: str, enabled: bool) -> bool:
    return bool(conn.execute(Q.set_rule_enabled, (enabled, time.time(), name)).rowcount)


def remove(conn: Connection, name: str) -> bool:
    """Delete a rule with its runs and window matches (alerts stay: they are history)."""
    return bool(conn.execute(Q.remove_rule, (name,)).rowcount)


def export(rules: Sequence[Rule]) -> dict[str, Any]:
    """The rules as a file `rules apply` takes back (TOML-ready): verbatim, secrets included, unless the
    caller passes masked rules (`rules show`)."""
    out = []
    for r in rules:
        spec = dict(r.spec)
        if not r.enabled:
            spec["enabled"] = False
        out.append(spec)
    return {"rules": out}
