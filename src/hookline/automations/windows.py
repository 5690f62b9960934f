"""Window counts: which matches of one rule and key fire, whatever order they arrived in.

A match fires when it and the matches before it in (time, event id) order that lie within `seconds`
of it number at least `count`: what the backtest finds reading the log in time order. The live
matcher decides it again for every match a new arrival can change (those at or after it, less than
`seconds` later), so an early event that arrives last still completes the window, and the set of
matches that fire does not depend on the order they arrived in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import msgspec

from hookline.automations.conditions import EvalContext
from hookline.automations.errors import ExpressionError
from hookline.automations.spec import CompiledRule

# A stored match: (its event's time, the event's id). Ids break ties the way the log orders them.
Match = tuple[float, int]
KEY_MAX = 500  # characters of a `by` value kept as the window key


def window_key(rule: CompiledRule, context: EvalContext) -> str | None:
    """The `by` value an event is counted under ('' without `by`); None when it has none (the field is
    absent): nothing to count under."""
    if rule.window_by is None:
        return ""
    try:
        value = rule.window_by.evaluate(context)
    except ExpressionError:
        return None
    return (value if isinstance(value, str) else msgspec.json.encode(value).decode())[:KEY_MAX]


def firing(matches: Sequence[Match], new: Match, count: int, seconds: float) -> list[int]:
    """The event ids of the matches at or after `new` that fire. `matches` is sorted, holds `new`, and
    reaches back at least `seconds` before it (every match that can share a window with it)."""
    out: list[int] = []
    start = 0
    for i, (at, event_id) in enumerate(matches):
        while matches[start][0] <= at - seconds:
            start += 1
        if i - start + 1 >= count and (at, event_id) >= new:
            out.append(event_id)
    return out


class InOrder:
    """The same rule for matches fed in (time, event id) order, one key's recent times kept (the backtest)."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count, self.seconds = count, seconds
        self._times: dict[str, deque[float]] = {}

    def fires(self, key: str, at: float) -> bool:
        times = self._times.setdefault(key, deque())
        times.append(at)
        while times[0] <= at - self.seconds:
            times.popleft()
        return len(times) >= self.count
