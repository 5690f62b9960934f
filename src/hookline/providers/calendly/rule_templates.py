"""Calendly's ready-made rules (Provider.rule_templates): a subscription Calendly disabled."""

from __future__ import annotations

from typing import Any

from hookline.automations.ready_rules import RuleTemplate, alert_steps, per_key


def _disabled(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "on": ["calendly:hookline.subscription_disabled"],  # recorded by the watchdog (watchdog.py)
        "window": per_key("data.payload.uuid"),
        "steps": alert_steps(values, "Calendly subscription {{ data.payload.uuid }} of {{ account }} was"
                                     " {{ data.payload.state }}",
                             "hookline's watchdog recreated it as {{ data.payload.recreated_as }} and"
                             " backfills the gap"),
    }


DISABLED = RuleTemplate(
    "calendly-subscription-disabled",
    "Calendly disabled (or lost) a webhook subscription pointing here (found by the watchdog)",
    _disabled,
)

TEMPLATES: tuple[RuleTemplate, ...] = (DISABLED,)
