"""`hookline rules test`: a rule against stored events, with no side effects.

Reads the log between two times (on the events' own timestamps) in time order and applies the
rule's patterns, hours and condition ("matched") and its window ("would_run"; counted in memory
over the same events, as the matcher counts them in the database). Nothing is written and nothing
is sent: `samples` show what the first runs would have requested, rendered as a dry-run would.
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any

import msgspec

from hookline.automations.actions import Action
from hookline.automations.conditions import EvalContext
from hookline.automations.context import event_context
from hookline.automations.errors import ExpressionError
from hookline.automations.matcher import LIVE_ORIGINS, preview_steps
from hookline.automations.spec import CompiledRule
from hookline.provider import Provider
from hookline.store.engine import Connection
from hookline.store.events import page_by_occurrence

PAGE = 1000


def backtest(
    conn: Connection, rule: CompiledRule, providers: dict[str, Provider], actions: dict[str, Action],
    since: float, until: float | None, samples: int = 5,
) -> dict[str, Any]:
    window = rule.spec.get("window")
    seen: dict[str, deque[float]] = defaultdict(deque)
    result: dict[str, Any] = {"rule": rule.name, "since": since, "until": until, "events": 0, "matched": 0,
                              "would_run": 0, "samples": []}
    after: tuple[float, int] = (since, 0)
    while True:
        events = page_by_occurrence(conn, after, until, PAGE)
        if not events:
            return result
        for ev in events:
            assert ev.occurred_at is not None  # the page holds only events that say when they happened
            after = (ev.occurred_at, ev.id)
            result["events"] += 1
            if ev.origin not in LIVE_ORIGINS or not rule.patterns.matches(ev.provider, ev.event):
                continue
            context = event_context(ev, providers.get(ev.provider))
            cel = EvalContext(context, rule.needs)
            ts = float(context["timestamp"])
            if not rule.in_hours(ts) or (rule.condition is not None and not rule.condition.matches(cel)):
                continue
            result["matched"] += 1
            key = ""
            if window:
                if rule.window_by is not None:
                    try:
                        value = rule.window_by.evaluate(cel)
                    except ExpressionError:  # no key (the field is absent): nothing to count under
                        continue
                    key = value if isinstance(value, str) else msgspec.json.encode(value).decode()
                times = seen[key]
                times.append(ts)
                while times and times[0] <= ts - window["seconds"]:
                    times.popleft()
                if len(times) < window["count"]:
                    continue
            result["would_run"] += 1
            if len(result["samples"]) < samples:
                result["samples"].append({"event_id": ev.id, "event": ev.event, "timestamp": ts, "window_key": key,
                                          "steps": preview_steps(rule, context, actions)})
