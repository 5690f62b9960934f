"""Step values as Jinja2 templates, rendered in a sandbox over the run's context.

The sandbox (jinja2.sandbox.ImmutableSandboxedEnvironment) refuses attribute access to internals
(`__class__`, `__globals__`, ...) and any mutation, so a template written by a user, or a value
carried by an event, can never reach Python objects. Values inside the context are rendered as data,
never as templates: an event field holding `{{ ... }}` stays that text.

Templates are compiled once at apply time (syntax errors with their line) and cached per text.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from hookline.automations.errors import TemplateError

_ENV = ImmutableSandboxedEnvironment(
    undefined=jinja2.ChainableUndefined,  # steps.crm.json.company is '' when crm returned no JSON
    autoescape=False,
    keep_trailing_newline=False,
)


@lru_cache(maxsize=4096)
def compile_template(text: str) -> jinja2.Template:
    """A compiled template; TemplateError naming the line and the problem when it cannot compile."""
    try:
        return _ENV.from_string(text)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"line {exc.lineno}: {exc.message}", line=exc.lineno) from None


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def render(text: str, context: Mapping[str, Any]) -> str:
    """One value rendered; TemplateError for what the sandbox refuses or an error while rendering."""
    if not is_template(text):
        return text
    try:
        return compile_template(text).render(context)
    except SecurityError as exc:
        raise TemplateError(f"refused by the sandbox: {exc}") from None
    except TemplateError:
        raise
    except Exception as exc:  # a filter on the wrong type, a division by zero...
        raise TemplateError(f"{type(exc).__name__}: {exc}") from None


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Strings rendered, lists and tables walked, other values (numbers, booleans) as they are."""
    if isinstance(value, str):
        return render(value, context)
    if isinstance(value, list):
        return [render_value(v, context) for v in value]
    if isinstance(value, dict):
        return {k: render_value(v, context) for k, v in value.items()}
    return value


def check_value(value: Any) -> None:
    """Compile every template inside `value` (apply time); TemplateError from the first bad one."""
    if isinstance(value, str):
        if is_template(value):
            compile_template(value)
    elif isinstance(value, list):
        for v in value:
            check_value(v)
    elif isinstance(value, dict):
        for v in value.values():
            check_value(v)
