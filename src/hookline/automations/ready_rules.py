"""Ready-made rules (the security layer): templates listed by `hookline rules templates` and turned
into a rule by `hookline rules add NAME --template T [--set key=value]`.

A template is a function from its parameters to a rule table (what a `[[rules]]` table of a rules
file holds, without the name); the rule it gives is checked exactly as `rules apply` checks a file.
Templates come from the core and from each provider's `rule_templates()` hook, like actions. Every
template here opens an alert and notifies: the `notify` parameter (an Apprise URL) is required.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookline.provider import Provider

SEVERITIES = ("info", "warning", "critical")


class TemplateParamError(ValueError):
    """A `--set` the template refuses; the message names the key."""


@dataclass(frozen=True)
class Param:
    """A template's parameter: `default` None means required; `kind` is str, int or list (comma-separated)."""

    name: str
    help: str
    default: str | None = None
    kind: str = "str"
    check: Callable[[Any], str | None] | None = None  # returns why the value is refused, or None


@dataclass(frozen=True)
class RuleTemplate:
    name: str
    description: str
    build: Callable[[dict[str, Any]], dict[str, Any]]
    params: tuple[Param, ...] = field(default=())

    def all_params(self) -> tuple[Param, ...]:
        """Its own parameters, then the ones every template has (notify, severity)."""
        return (*self.params, *COMMON)

    def values(self, sets: Mapping[str, str]) -> dict[str, Any]:
        """The parameters' values from `--set key=value` pairs and the defaults, typed and checked."""
        params = {p.name: p for p in self.all_params()}
        for key in sets:
            if key not in params:
                raise TemplateParamError(
                    f"--set {key}: unknown parameter of {self.name} (known: {', '.join(params)})")
        out: dict[str, Any] = {}
        for p in params.values():
            raw = sets.get(p.name, p.default)
            if raw is None:
                raise TemplateParamError(f"--set {p.name}=...: required by {self.name} ({p.help})")
            value: Any = raw
            if p.kind == "int":
                if not raw.strip().isdigit() or int(raw) < 1:
                    raise TemplateParamError(f"--set {p.name}: a whole number >= 1, not {raw!r}")
                value = int(raw)
            elif p.kind == "list":
                value = [v.strip() for v in raw.split(",") if v.strip()]
            why = p.check(value) if p.check is not None else None
            if why:
                raise TemplateParamError(f"--set {p.name}: {why}")
            out[p.name] = value
        return out

    def rule(self, name: str, sets: Mapping[str, str]) -> dict[str, Any]:
        """The rule table (to be checked with spec.check_rule), named `name`."""
        return {"name": name, "description": f"from template {self.name}: {self.description}",
                **self.build(self.values(sets))}


def _severity(value: Any) -> str | None:
    return None if value in SEVERITIES else f"one of {', '.join(SEVERITIES)}"


def _apprise(value: Any) -> str | None:
    return None if "://" in str(value) else "an Apprise URL such as slack://... or json://host/path"


COMMON = (
    Param("notify", "the Apprise URL notified when the alert opens (slack://..., json://host/path...)",
          check=_apprise),
    Param("severity", "the alert's severity: info, warning or critical", "warning", check=_severity),
)


def alert_steps(values: Mapping[str, Any], title: str, body: str) -> list[dict[str, Any]]:
    """An alert (one per rule and window key while open), then one notification per alert opened."""
    return [
        {"action": "alert", "severity": values["severity"], "title": title},
        {"action": "notify", "url": values["notify"], "title": title, "body": body},
    ]


def per_key(by: str, seconds: int = 86400) -> dict[str, Any]:
    """A window of one match: every match fires, and alerts are kept apart by `by` (one per key while open)."""
    return {"count": 1, "seconds": seconds, "by": by}


def cel_string(value: str) -> str:
    """A CEL string literal holding `value` (values from --set never become expression code)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cel_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(cel_string(v) for v in values) + "]"


def _failed_sign_ins(values: Mapping[str, Any]) -> dict[str, Any]:
    # The events come from hookline's own refusals (automations/signals.py SignInSignals), never
    # from a request's body: a webhook or a form cannot write them. All sources count together, so a
    # guesser spreading over many addresses is seen too; the alert names the latest address.
    title = f"{values['count']} failed sign-ins to hookline within {values['seconds']} s"
    return {
        "on": ["hookline:auth.sign_in_failed"],
        "window": {"count": values["count"], "seconds": values["seconds"]},
        "steps": alert_steps(values, title, "latest from {{ data.address }} on {{ data.path }}"),
    }


FAILED_SIGN_INS = RuleTemplate(
    "hookline-failed-sign-ins",
    "repeated failed sign-ins to hookline itself (dashboard /login and /api tokens): `count` within `seconds`",
    _failed_sign_ins,
    (
        Param("count", "failed sign-ins that open the alert", "10", kind="int"),
        Param("seconds", "within this many seconds", "300", kind="int"),
    ),
)

BUILTIN: tuple[RuleTemplate, ...] = (FAILED_SIGN_INS,)


def registry(providers: Sequence[Provider]) -> dict[str, RuleTemplate]:
    """The core's templates, then each provider's; a name registered twice raises."""
    found: dict[str, RuleTemplate] = {}
    for template in [*BUILTIN, *(t for p in providers for t in p.rule_templates())]:
        if template.name in found:
            raise ValueError(f"rule template {template.name!r} is registered twice")
        found[template.name] = template
    return found
