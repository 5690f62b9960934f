"""`hookline rules test`: a rule against stored events, with no side effects.

Reads the log between two times in time order, the time being the one the live matcher judges an
event by (`timestamp`: when it happened, or when it was received if the provider did not say), and
applies the rule's patterns, hours and condition ("matched") and its window ("would_run": the same
rule as the matcher's, windows.py, which makes the live runs the same whatever order the events
arrived in). Nothing is written and nothing is sent: `samples` show what the first runs would have
requested, rendered as a dry-run would.
"""

from __future__ import annotations

from typing import Any

from hookline.automations.actions import Action
from hookline.automations.conditions import EvalContext
from hookline.automations.context import event_context
from hookline.automations.matcher import LIVE_ORIGINS, preview_steps
from hookline.automations.spec import CompiledRule
from hookline.automations.windows import InOrder, window_key
from hookline.provider import Provider
from hookline.store.engine import Connection
from hookline.store.events import page_by_time, timestamp_of

PAGE = 1000


def backtest(
    conn: Connection, rule: CompiledRule, providers: dict[str, Provider], actions: dict[str, Action],
    since: float, until: float | None, samples: int = 5,
) -> dict[str, Any]:
    window = rule.spec.get("window")
    counter = InOrder(int(window["count"]), float(window["seconds"])) if window else None
    result: dict[str, Any] = {"rule": rule.name, "since": since, "until": until, "events": 0, "matched": 0,
                              "would_run": 0, "samples": []}
    after: tuple[float, int] = (since, 0)
    while True:
        events = page_by_time(conn, after, until, PAGE)
        if not events:
            return result
        for ev in events:
            ts = timestamp_of(ev)
            after = (ts, ev.id)
            result["events"] += 1
            if ev.origin not in LIVE_ORIGINS or not rule.patterns.matches(ev.provider, ev.event):
                continue
            context = event_context(ev, providers.get(ev.provider))
            cel = EvalContext(context, rule.needs)
            if not rule.in_hours(ts) or (rule.condition is not None and not rule.condition.matches(cel)):
                continue
            result["matched"] += 1
            key: str | None = ""
            if counter is not None:
                key = window_key(rule, cel)
                if key is None or not counter.fires(key, ts):
                    continue
            result["would_run"] += 1
            if len(result["samples"]) < samples:
                result["samples"].append({"event_id": ev.id, "event": ev.event, "timestamp": ts, "window_key": key,
                                          "steps": preview_steps(rule, context, actions)})
