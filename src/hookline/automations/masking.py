"""A rule as listings show it (`rules list/show`, /api/rules, the Automations pages): the credentials a
rule may hold masked. `rules export` alone prints the rule verbatim (the file that round-trips into git)."""

from __future__ import annotations

import re
from typing import Any

from hookline.outbound import without_credentials

# Header names whose values are credentials; the `http` action's run records use the same pattern.
SECRET_HEADER = re.compile(r"authorization|cookie|token|secret|key|password|signature", re.IGNORECASE)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
MASK = "***"


def masked_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of a stored rule spec with secret header values, URL passwords and Apprise URLs masked."""
    out = dict(spec)
    out["steps"] = [_step(step) for step in spec.get("steps", [])]
    return out


def _step(step: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in step.items():
        if key == "headers" and isinstance(value, dict):
            out[key] = {k: (MASK if SECRET_HEADER.search(str(k)) else _value(v)) for k, v in value.items()}
        elif key == "url" and step.get("action") == "notify" and isinstance(value, str) and "://" in value:
            # Apprise URLs carry their credentials in any part (slack://TokenA/TokenB/TokenC): scheme only.
            out[key] = value.split("://", 1)[0] + "://" + MASK
        else:
            out[key] = _value(value)
    return out


def _value(value: Any) -> Any:
    """Any URL anywhere in a step (json bodies, insight-card links...) with its userinfo masked."""
    if isinstance(value, str):
        return without_credentials(value) if _URL.match(value) else value
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_value(v) for v in value]
    return value
