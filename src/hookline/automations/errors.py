"""The errors of automations, each saying where (rule, field, position) when it is about a rule."""

from __future__ import annotations


class AutomationError(Exception):
    """Base class."""


class ExpressionError(AutomationError):
    """A CEL expression that does not compile or cannot be evaluated."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class TemplateError(AutomationError):
    """A Jinja2 template that does not compile, or that the sandbox refused while rendering."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class RuleError(AutomationError):
    """A rule that cannot be stored: names the rule and the field."""

    def __init__(self, rule: str, field: str, message: str) -> None:
        super().__init__(f"rule {rule!r}, {field}: {message}")
        self.rule = rule
        self.field = field
