"""A rule as the user writes it (TOML), checked and normalized, and compiled for matching.

`check_rule` refuses a rule with a RuleError naming the rule, the field (`if`, `window.by`,
`steps[2].title`...) and, for CEL and Jinja, the line and column. `CompiledRule` is what the matcher
and the executor use: patterns, conditions and the steps as stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hookline.automations.actions import Action
from hookline.automations.conditions import Condition, Needs, merge_needs
from hookline.automations.errors import ExpressionError, RuleError, TemplateError
from hookline.automations.templates import check_value
from hookline.forwarding import patterns

NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
STEP_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MODES = ("live", "dry-run")
_TOP = ("name", "on", "if", "window", "hours", "mode", "enabled", "steps", "description")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _expr(rule: str, field: str, value: Any) -> Condition:
    if not isinstance(value, str):
        raise RuleError(rule, field, "must be a CEL expression (a string)")
    try:
        return Condition.compile(value)
    except ExpressionError as exc:
        raise RuleError(rule, field, f"CEL {exc}") from None


def _days(rule: str, value: Any) -> list[int]:
    if isinstance(value, str):
        first, sep, last = value.partition("-")
        if sep and first in _DAYS and last in _DAYS:
            a, b = _DAYS.index(first), _DAYS.index(last)
            return list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]
        value = [value]
    if isinstance(value, list) and value and all(isinstance(d, str) and d in _DAYS for d in value):
        return sorted({_DAYS.index(d) for d in value})
    raise RuleError(rule, "hours.days", "use 'mon-fri' or a list such as ['mon', 'tue']")


def _clock(rule: str, field: str, value: Any) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise RuleError(rule, field, f"{value!r} is not a time of day such as '09:00'") from None


def check_rule(raw: Mapping[str, Any], actions: Mapping[str, Action]) -> dict[str, Any]:
    """The rule normalized (what is stored), or RuleError."""
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        label = name if isinstance(name, str) else "?"
        raise RuleError(label, "name", "required: lower-case letters, digits, '.', '_', '-' (up to 100)")
    for key in raw:
        if key not in _TOP:
            raise RuleError(name, key, f"unknown field (a rule has {', '.join(_TOP)})")
    spec: dict[str, Any] = {"name": name}
    on = raw.get("on")
    if isinstance(on, str):
        on = [on]
    if not isinstance(on, list) or not on or not all(isinstance(p, str) for p in on):
        raise RuleError(name, "on", "required: a list of event patterns such as ['aircall:call.created']")
    try:
        spec["on"] = [patterns.validate(p) for p in on]
    except ValueError as exc:
        raise RuleError(name, "on", str(exc)) from None
    if "if" in raw:
        _expr(name, "if", raw["if"])
        spec["if"] = raw["if"]
    if "window" in raw:
        spec["window"] = _window(name, raw["window"])
    if "hours" in raw:
        spec["hours"] = _hours(name, raw["hours"])
    mode = raw.get("mode", "live")
    if mode not in MODES:
        raise RuleError(name, "mode", f"must be one of {', '.join(MODES)}")
    spec["mode"] = mode
    if "enabled" in raw:
        if not isinstance(raw["enabled"], bool):
            raise RuleError(name, "enabled", "must be true or false")
        spec["enabled"] = raw["enabled"]
    if "description" in raw:
        spec["description"] = str(raw["description"])
    spec["steps"] = _steps(name, raw.get("steps"), actions)
    return spec


def _window(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RuleError(name, "window", "must be a table: { count = 3, seconds = 600, by = 'data.user.id' }")
    for key in value:
        if key not in ("count", "seconds", "by"):
            raise RuleError(name, f"window.{key}", "unknown field (count, seconds, by)")
    count, seconds = value.get("count"), value.get("seconds")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise RuleError(name, "window.count", "required: a whole number >= 1")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds <= 0:
        raise RuleError(name, "window.seconds", "required: a number of seconds > 0")
    out: dict[str, Any] = {"count": count, "seconds": float(seconds)}
    if "by" in value:
        _expr(name, "window.by", value["by"])
        out["by"] = value["by"]
    return out


def _hours(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RuleError(name, "hours", "must be a table: { tz = 'Europe/Paris', days = 'mon-fri', start = '09:00',"
                        " end = '18:00', when = 'outside' }")
    for key in value:
        if key not in ("tz", "days", "start", "end", "when"):
            raise RuleError(name, f"hours.{key}", "unknown field (tz, days, start, end, when)")
    tz = value.get("tz", "UTC")
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise RuleError(name, "hours.tz", f"unknown time zone {tz!r}") from None
    when = value.get("when", "inside")
    if when not in ("inside", "outside"):
        raise RuleError(name, "hours.when", "must be 'inside' or 'outside'")
    start = _clock(name, "hours.start", value.get("start", "09:00"))
    end = _clock(name, "hours.end", value.get("end", "18:00"))
    if end <= start:
        raise RuleError(name, "hours.end", "must be after hours.start")
    days = value.get("days", "mon-fri")
    _days(name, days)
    return {"tz": str(tz), "days": days, "start": start.isoformat("minutes"), "end": end.isoformat("minutes"),
            "when": when}


def _steps(name: str, value: Any, actions: Mapping[str, Action]) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise RuleError(name, "steps", "required: at least one [[rules.steps]] table")
    seen: set[str] = set()
    out = []
    for i, step in enumerate(value):
        where = f"steps[{i + 1}]"
        if not isinstance(step, dict):
            raise RuleError(name, where, "must be a table")
        kind = step.get("action")
        action = actions.get(kind) if isinstance(kind, str) else None
        if action is None:
            raise RuleError(name, f"{where}.action", f"unknown action {kind!r} (known: {', '.join(sorted(actions))})")
        step_id = step.get("id")
        if step_id is not None:
            if not isinstance(step_id, str) or not STEP_ID.match(step_id):
                raise RuleError(name, f"{where}.id", "letters, digits and '_' (it is used as steps.<id>)")
            if step_id in seen:
                raise RuleError(name, f"{where}.id", f"{step_id!r} is used by an earlier step")
            seen.add(step_id)
        params = {k: v for k, v in step.items() if k not in ("action", "id")}
        for key in params:
            if key not in action.required and key not in action.optional:
                known = ", ".join((*action.required, *action.optional))
                raise RuleError(name, f"{where}.{key}", f"unknown field for {kind} (known: {known})")
        for key in action.required:
            if key not in params:
                raise RuleError(name, f"{where}.{key}", f"required by {kind}")
        for key, v in params.items():
            try:
                check_value(v)
            except TemplateError as exc:
                raise RuleError(name, f"{where}.{key}", f"Jinja {exc}") from None
        try:
            action.check(params)
        except ValueError as exc:
            field, _, why = str(exc).partition(": ")
            raise RuleError(name, f"{where}.{field}", why or str(exc)) from None
        out.append(dict(step))
    return out


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    updated_at: float
    spec: dict[str, Any]
    patterns: patterns.EventPatterns
    condition: Condition | None
    window_by: Condition | None

    @classmethod
    def build(cls, rule_id: int, updated_at: float, spec: dict[str, Any]) -> CompiledRule:
        window = spec.get("window") or {}
        return cls(
            rule_id, spec["name"], updated_at, spec, patterns.EventPatterns(spec["on"]),
            Condition.compile(spec["if"]) if spec.get("if") else None,
            Condition.compile(window["by"]) if window.get("by") else None,
        )

    @property
    def needs(self) -> Needs:
        """What its conditions read of the context (conditions.needed_fields)."""
        return merge_needs([c.needs for c in (self.condition, self.window_by) if c is not None])

    @property
    def mode(self) -> str:
        return str(self.spec.get("mode", "live"))

    def in_hours(self, ts: float) -> bool:
        """Whether `hours` lets the rule fire at unix time `ts` (always, without `hours`)."""
        hours = self.spec.get("hours")
        if not hours:
            return True
        local = datetime.fromtimestamp(ts, ZoneInfo(hours["tz"]))
        inside = (
            local.weekday() in _days(self.name, hours["days"])
            and time.fromisoformat(hours["start"]) <= local.time() < time.fromisoformat(hours["end"])
        )
        return inside if hours["when"] == "inside" else not inside
