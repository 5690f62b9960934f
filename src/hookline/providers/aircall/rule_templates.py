"""Aircall's ready-made rules (Provider.rule_templates): the security layer over Aircall's events.

Each opens an alert and notifies (ready_rules.alert_steps). Parameters come from
`hookline rules add NAME --template T --set key=value`; docs/automations.md lists them.
"""

from __future__ import annotations

import re
from typing import Any

from hookline.automations.ready_rules import Param, RuleTemplate, alert_steps, cel_list, per_key

# Examples of premium-rate ranges (US/CA 900 and 976, UK 09, France 081/082/089, Italy 899,
# Germany 0900, Spain 803/806/807): a starting point, to be replaced with --set premium_prefixes=...
PREMIUM_PREFIXES = "+1900,+1976,+449,+3381,+3382,+3389,+39899,+49900,+34803,+34806,+34807"
_PREFIX = re.compile(r"^\+\d{1,15}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _prefixes(values: Any) -> str | None:
    bad = [v for v in values if not _PREFIX.match(v)]
    return f"{bad[0]!r} is not a prefix such as +1900" if bad else None


def _countries(values: Any) -> str | None:
    bad = [v for v in values if not _COUNTRY.match(v)]
    return f"{bad[0]!r} is not an ISO country code such as FR" if bad else None


def _direction(value: Any) -> str | None:
    return None if value in ("any", "inbound", "outbound") else "one of any, inbound, outbound"


def _digits_regex(prefix: str) -> str:
    """Aircall formats numbers with spaces ('+33 1 23 45 67 89'): each digit may follow a space."""
    return "^\\+" + "".join(f"\\s*{d}" for d in prefix[1:])


def _foreign(values: dict[str, Any]) -> dict[str, Any]:
    tests = []
    if values["countries"]:
        tests.append(f"!(data.country_code_a2 in {cel_list(values['countries'])})")
    if values["premium_prefixes"]:
        regexes = cel_list([_digits_regex(p) for p in values["premium_prefixes"]])
        tests.append(f"{regexes}.exists(r, data.raw_digits.matches(r))")
    condition = 'data.direction == "outbound"'
    if tests:
        condition += " && (" + " || ".join(tests) + ")"
    title = "outbound call to {{ data.raw_digits }} ({{ data.country_code_a2 }}) by {{ data.user.name }}"
    return {
        "on": ["aircall:call.created"],
        "if": condition,
        "window": per_key("data.user.id"),
        "steps": alert_steps(values, title, "call {{ data.id }} from {{ data.number.digits }}: a premium-rate "
                                            "number or a country outside the expected ones"),
    }


FOREIGN = RuleTemplate(
    "aircall-premium-or-foreign-calls",
    "outbound calls to premium-rate numbers or to countries outside the expected ones",
    _foreign,
    (
        Param("countries", "expected countries (ISO codes, comma-separated); empty: any country", "",
              kind="list", check=_countries),
        Param("premium_prefixes", "premium-rate prefixes (+1900,...)", PREMIUM_PREFIXES, kind="list",
              check=_prefixes),
    ),
)


def _burst(values: dict[str, Any]) -> dict[str, Any]:
    title = (f"{{{{ data.user.name }}}} placed {values['count']} outbound calls"
             f" within {values['seconds']} s")
    return {
        "on": ["aircall:call.created"],
        "if": 'data.direction == "outbound"',
        "window": {"count": values["count"], "seconds": values["seconds"], "by": "data.user.id"},
        "steps": alert_steps(values, title, "latest: {{ data.raw_digits }} ({{ data.country_code_a2 }}),"
                                            " call {{ data.id }}"),
    }


BURST = RuleTemplate(
    "aircall-outbound-burst",
    "an agent's outbound burst: `count` outbound calls by one user within `seconds`",
    _burst,
    (
        Param("count", "outbound calls by one user that make a burst", "20", kind="int"),
        Param("seconds", "within this many seconds", "600", kind="int"),
    ),
)


def _hours_check(value: Any) -> str | None:
    return None if re.match(r"^\d{2}:\d{2}$", str(value)) else "a time such as 09:00"


def _out_of_hours(values: dict[str, Any]) -> dict[str, Any]:
    condition = None if values["direction"] == "any" else f'data.direction == "{values["direction"]}"'
    title = "calls outside business hours on {{ data.number.name }}"
    rule: dict[str, Any] = {
        "on": ["aircall:call.created"],
        "hours": {"tz": values["tz"], "days": values["days"], "start": values["start"], "end": values["end"],
                  "when": "outside"},
        "window": per_key("data.number.id"),
        "steps": alert_steps(values, title, "{{ data.direction }} call {{ data.id }} with"
                                            " {{ data.raw_digits }} by {{ data.user.name }}"),
    }
    if condition:
        rule["if"] = condition
    return rule


OUT_OF_HOURS = RuleTemplate(
    "aircall-out-of-hours-calls",
    "calls outside business hours (judged on the call's time in `tz`)",
    _out_of_hours,
    (
        Param("tz", "time zone of the business hours", "UTC"),
        Param("days", "working days, a range such as mon-fri", "mon-fri"),
        Param("start", "opening time", "09:00", check=_hours_check),
        Param("end", "closing time", "18:00", check=_hours_check),
        Param("direction", "any, inbound or outbound", "any", check=_direction),
    ),
)


def _resource(resource: str, events: list[str], title: str, body: str, by: str = "data.id") -> RuleTemplate:
    def build(values: dict[str, Any]) -> dict[str, Any]:
        return {"on": [f"aircall:{e}" for e in events], "window": per_key(by),
                "steps": alert_steps(values, title, body)}

    return RuleTemplate(f"aircall-{resource}-changes" if len(events) > 1 else f"aircall-{events[0].replace('.', '-')}",
                        f"{' or '.join(events)} on the Aircall account", build)


USERS = _resource("user", ["user.created", "user.deleted", "user.created.v2", "user.deleted.v2"],
                  "Aircall {{ event }}: {{ data.name }} <{{ data.email }}>",
                  "account {{ account }}, user {{ data.id }}")
NUMBERS = _resource("number", ["number.created", "number.deleted"],
                    "Aircall {{ event }}: {{ data.name }} {{ data.digits }}",
                    "account {{ account }}, number {{ data.id }}")
# Aircall's documented integration.deleted carries only `integration_id` and `company_id` (models.Integration):
# keyed and named by it, `id` and `name` when they come too.
INTEGRATION = _resource("integration", ["integration.deleted"],
                        "Aircall integration deleted: {{ data.name or data.integration_id or data.id }}",
                        "account {{ account }}, integration {{ data.integration_id or data.id }}",
                        by="has(data.integration_id) ? data.integration_id : data.id")



def _deactivated(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "on": ["aircall:hookline.webhook_deactivated"],  # recorded by the watchdog (watchdog.py)
        "window": per_key("data.id"),
        "steps": alert_steps(values, "Aircall deactivated webhook {{ data.id }} of {{ account }}",
                             "found by hookline's watchdog (incident {{ data.incident }}), which re-enables it"
                             " and backfills the gap: see `hookline aircall incidents`"),
    }


DEACTIVATED = RuleTemplate(
    "aircall-webhook-deactivated",
    "Aircall deactivated a webhook pointing here (found by the watchdog)",
    _deactivated,
)

TEMPLATES: tuple[RuleTemplate, ...] = (FOREIGN, BURST, OUT_OF_HOURS, USERS, NUMBERS, INTEGRATION, DEACTIVATED)
