"""Rule conditions in CEL (the `if` of a rule, the `by` of a window), on common-expression-language.

Measured in bench/cel_candidates.py (one event against 50 conditions): the Rust-backed `cel`
package converts the variables once per event and then evaluates a condition in under a
microsecond (about 520 us in all, most of it the conversion), against about 2,300 us for
cel-expr-python (which converts on every call) and 22,800 us for the pure-Python cel-python.
So the context is built once per event, with only the fields the event's candidate rules read.

Standard CEL raises an error when a field is absent from a map, which is not what a user writing
`data.missed_call_reason != null` means. This module keeps the user's expression for error positions
and evaluates a rewritten one: every comparison of a field path with `null` reads an absent field
(or one under an absent or null parent) as null. So `x != null` is true exactly when x is set, and
`x == null` when it is null or absent. Any other evaluation error (a field read that is absent, a
type mismatch) makes the condition false: `Condition.matches` never raises for an event's content.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cel

from hookline.automations.errors import ExpressionError

# The names a condition may use: the run's context (see context.py).
NAMES = ("event", "provider", "account", "timestamp", "data", "body", "steps")

_STRING = re.compile(
    r"""[rRbB]{0,2}(?:'''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")""",
    re.DOTALL,
)
_PATH = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+"
_NULL_RIGHT = re.compile(rf"(?<![\w.)\]])({_PATH})\s*(==|!=)\s*null\b")
_NULL_LEFT = re.compile(rf"\bnull\s*(==|!=)\s*({_PATH})(?![\w.(\[])")
_ROOT = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\b(\s*\()?")
_KEYWORDS = frozenset({"true", "false", "null", "in", "has", "int", "uint", "double", "string", "bytes", "bool",
                       "type", "dyn", "list", "map", "size", "matches", "timestamp", "duration"})
_MACRO_VAR = re.compile(r"\.(?:all|exists|exists_one|map|filter)\(\s*([A-Za-z_]\w*)\s*,")
_POSITION = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")


def _code_segments(expr: str) -> list[tuple[bool, str]]:
    """(is_code, text) pieces: string literals are kept apart so nothing inside them is rewritten."""
    pieces: list[tuple[bool, str]] = []
    at = 0
    for m in _STRING.finditer(expr):
        pieces.append((True, expr[at:m.start()]))
        pieces.append((False, m.group(0)))
        at = m.end()
    pieces.append((True, expr[at:]))
    return pieces


def _guarded(path: str) -> str:
    """`(has(a.b) && a.b != null && has(a.b.c) ? a.b.c : null)`: the path, or null when it is not there."""
    parts = path.split(".")
    checks = []
    for i in range(2, len(parts) + 1):
        prefix = ".".join(parts[:i])
        checks.append(f"has({prefix})")
        if i < len(parts):
            checks.append(f"{prefix} != null")
    return f"({' && '.join(checks)} ? {path} : null)"


def null_safe(expr: str) -> str:
    """The expression with every `path ==/!= null` comparison reading absent fields as null."""
    out = []
    for is_code, text in _code_segments(expr):
        if is_code:
            text = _NULL_RIGHT.sub(lambda m: f"{_guarded(m[1])} {m[2]} null", text)
            text = _NULL_LEFT.sub(lambda m: f"null {m[1]} {_guarded(m[2])}", text)
        out.append(text)
    return "".join(out)


def referenced_names(expr: str) -> tuple[set[str], list[tuple[str, int]]]:
    """(context names the expression reads, unknown names with their 0-based offsets)."""
    used: set[str] = set()
    unknown: list[tuple[str, int]] = []
    bound = {m[1] for is_code, text in _code_segments(expr) if is_code for m in _MACRO_VAR.finditer(text)}
    offset = 0
    for is_code, text in _code_segments(expr):
        if is_code:
            for m in _ROOT.finditer(text):
                name, call = m[1], m[2]
                if call or name in _KEYWORDS or name in bound:
                    continue  # a function (checked by CEL at run time) or a literal
                if name in NAMES:
                    used.add(name)
                else:
                    unknown.append((name, offset + m.start(1)))
        offset += len(text)
    return used, unknown


_FIELD = re.compile(r"(?<![\w.])([A-Za-z_]\w*)(\s*\.\s*([A-Za-z_]\w*))?")

Needs = dict[str, frozenset[str] | None]  # per context name: the top-level keys read, or None for all


def needed_fields(expr: str) -> Needs:
    """Which top-level keys of each context name the expression reads (`data.direction` -> direction);
    None when it uses the value as a whole (`size(data)`, `data["x"]`)."""
    found: dict[str, set[str] | None] = {}
    for is_code, text in _code_segments(expr):
        if not is_code:
            continue
        for m in _FIELD.finditer(text):
            name = m[1]
            if name not in NAMES:
                continue
            keys = found.setdefault(name, set())
            if m[3] is None:
                found[name] = None
            elif keys is not None:
                keys.add(m[3])
    return {n: (None if k is None else frozenset(k)) for n, k in found.items()}


def merge_needs(parts: list[Needs]) -> Needs:
    out: dict[str, frozenset[str] | None] = {}
    for needs in parts:
        for name, keys in needs.items():
            if name in out and (out[name] is None or keys is None):
                out[name] = None
            else:
                out[name] = (out.get(name) or frozenset()) | keys if keys is not None else None
    return out


# A guard: (context name, top-level key or None, the string it must equal). See equality_guards.
Guard = tuple[str, str | None, str]
_GUARD_SIDE = r"(event|provider|account|data)(?:\.([A-Za-z_]\w*))?"
_GUARD_LITERAL = r"""(?:"([^"\\\n]*)"|'([^'\\\n]*)')"""
_GUARD = re.compile(rf"^{_GUARD_SIDE}\s*==\s*{_GUARD_LITERAL}$")
_GUARD_REVERSED = re.compile(rf"^{_GUARD_LITERAL}\s*==\s*{_GUARD_SIDE}$")


def _top_level_conjuncts(expr: str) -> list[str] | None:
    """The operands of the expression's top-level `&&` chain, or None when its top level holds a `||`
    or a `?:`, or it has what this small splitter does not read (a comment, a triple-quoted string)."""
    if '"""' in expr or "'''" in expr:
        return None
    parts: list[str] = []
    depth, start, i, quote = 0, 0, 0, ""
    while i < len(expr):
        ch = expr[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif expr.startswith("//", i) or (depth == 0 and (expr.startswith("||", i) or ch == "?")):
            return None
        elif depth == 0 and expr.startswith("&&", i):
            parts.append(expr[start:i])
            start = i + 2
            i += 1
        i += 1
    if quote or depth:
        return None
    parts.append(expr[start:])
    return [p.strip() for p in parts]


def equality_guards(expr: str) -> tuple[Guard, ...]:
    """`name == "text"` / `data.key == "text"` operands of the expression's top-level `&&` chain.

    Each is necessary for the condition to be true (CEL's `false && x` is false whatever x is, and a
    field that is absent or of another type never equals a string), so the matcher checks them on the
    decoded event in Python and skips the rule, without building the CEL context, when one fails.
    """
    conjuncts = _top_level_conjuncts(expr)
    if conjuncts is None:
        return ()
    guards: list[Guard] = []
    for c in conjuncts:
        m = _GUARD.match(c)
        if m is not None:
            guards.append((m[1], m[2], m[3] if m[3] is not None else m[4]))
            continue
        m = _GUARD_REVERSED.match(c)
        if m is not None:
            guards.append((m[3], m[4], m[1] if m[1] is not None else m[2]))
    return tuple(guards)


def guards_pass(guards: tuple[Guard, ...], values: Mapping[str, Any]) -> bool:
    """Whether the event's values can satisfy every guard (equality_guards)."""
    for name, key, text in guards:
        value = values.get(name)
        if key is not None:
            value = value.get(key) if isinstance(value, dict) else None
        if not (isinstance(value, str) and value == text):
            return False
    return True


def _line_col(expr: str, offset: int) -> tuple[int, int]:
    line = expr.count("\n", 0, offset) + 1
    col = offset - (expr.rfind("\n", 0, offset) + 1) + 1
    return line, col


def _compile(expr: str) -> cel.Program:
    try:
        return cel.compile(expr)
    except (ValueError, RuntimeError) as exc:
        text = str(exc)
        found = _POSITION.search(text)
        if found is None:
            raise ExpressionError(text.splitlines()[0] if text else "invalid expression") from None
        line, col, message = int(found[1]), int(found[2]), found[3]
        raise ExpressionError(f"line {line}, column {col}: {message}", line=line, column=col) from None


@dataclass(frozen=True)
class Condition:
    """A compiled CEL expression; `names` are the context variables it reads."""

    source: str
    program: cel.Program
    names: frozenset[str]
    needs: Needs
    guards: tuple[Guard, ...] = ()  # necessary string equalities, checked before CEL (equality_guards)

    @classmethod
    def compile(cls, expr: str) -> Condition:
        """Compile for evaluation; ExpressionError with the line and column of the first problem."""
        if not expr.strip():
            raise ExpressionError("the expression is empty")
        _compile(expr)  # positions refer to what the user wrote
        used, unknown = referenced_names(expr)
        if unknown:
            name, offset = unknown[0]
            line, col = _line_col(expr, offset)
            raise ExpressionError(
                f"line {line}, column {col}: unknown name {name!r} (the context has {', '.join(NAMES)})",
                line=line, column=col,
            )
        return cls(expr, _compile(null_safe(expr)), frozenset(used), needed_fields(expr), equality_guards(expr))

    def evaluate(self, context: EvalContext) -> Any:
        """The value; ExpressionError when the expression fails on this context."""
        try:
            return self.program.execute(context.for_names(self.names))
        except Exception as exc:
            raise ExpressionError(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None

    def matches(self, context: EvalContext) -> bool:
        """True only for a boolean true: an error or any other value is not a match."""
        try:
            return self.evaluate(context) is True
        except ExpressionError:
            return False


class EvalContext:
    """One event's variables, converted to CEL once and shared by every rule that evaluates on it.

    Converting a value to CEL is the expensive part (about 350 us for a call's `data`, against well
    under a microsecond to evaluate a condition), so the context holds only what the event's
    candidate rules read: `needs` (merge_needs of their conditions) names the top-level keys of each
    variable; None converts every variable whole.
    """

    def __init__(self, values: Mapping[str, Any], needs: Needs | None = None) -> None:
        self.values = values
        self.needs = needs
        self._context: cel.Context | None = None

    def _project(self) -> dict[str, Any]:
        if self.needs is None:
            return dict(self.values)
        out: dict[str, Any] = {}
        for name, keys in self.needs.items():
            value = self.values.get(name)
            if keys is not None and isinstance(value, dict):
                value = {k: value[k] for k in keys if k in value}
            out[name] = value
        return out

    def for_names(self, names: frozenset[str]) -> cel.Context:
        return self.cel()

    def cel(self) -> cel.Context:
        """The CEL context, converted on the first call."""
        if self._context is None:
            self._context = cel.Context(variables=self._project())
        return self._context
