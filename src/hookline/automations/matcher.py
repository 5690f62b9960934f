"""The rule matcher: a pipeline handler that turns matching events into runs, in the worker's transaction.

For each event of the batch and each enabled rule: the `on` patterns, then `hours` (on the event's
timestamp), then the `if` condition, then the `window` (the match is recorded and the rule fires once
the database holds `count` matches of the same `by` key within `seconds`: counted in SQL, so it holds
across worker processes). A live rule gets a pending run for the executor; a dry-run rule gets a run
that records what each step would have sent, and nothing is sent.

It runs only on live events (not on `hookline rebuild`'s replay of the log), and never does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import structlog

from hookline.automations import runs
from hookline.automations.actions import Action
from hookline.automations.actions import registry as action_registry
from hookline.automations.conditions import EvalContext, Guard, Needs, guards_pass, merge_needs
from hookline.automations.context import event_context
from hookline.automations.errors import ExpressionError
from hookline.automations.spec import CompiledRule
from hookline.automations.templates import render_value
from hookline.pipeline.handlers import EventHandler, StoredEvent
from hookline.runtime import Runtime
from hookline.store.engine import Connection
from hookline.store.queries import load_queries

Q = load_queries(__package__)

# One run row for runs.create: rule id, rule name, event id, mode, window key, state, step previews.
Run = tuple[int, str, int, str, str, str, list[Any]]

log = structlog.get_logger(__name__)

WAKE_KEY = "automations.wake"
CHANNEL = "hookline_automations"
# Events as they happen (webhooks, and what a watchdog found: signals.py); backfilled and synced records
# describe the past.
LIVE_ORIGINS = frozenset({"webhook", "watchdog"})
_WINDOW_LOCK = 728_115_013  # the advisory-lock namespace of window counts


class Candidates:
    """The rules whose `on` patterns match one (provider, event type), with what the matcher needs of
    them worked out once: their conditions' guards, what they read of the context, whether a context
    must carry `body` (a condition reads it, or a dry-run rule previews its steps)."""

    def __init__(self, rules: list[CompiledRule]) -> None:
        self.rules = rules
        self.needs: Needs = merge_needs([r.needs for r in rules])
        self.with_body = "body" in self.needs or any(r.mode == "dry-run" for r in rules)
        # (rule, its guards, its CEL program when the condition alone decides: no hours, no window)
        self.plan: list[tuple[CompiledRule, tuple[Guard, ...], Any]] = [
            (r, r.condition.guards if r.condition is not None else (),
             r.condition.program if r.condition is not None and not r.spec.get("hours") and not r.spec.get("window")
             else None)
            for r in rules
        ]


class RuleSet:
    """The enabled rules, compiled; recompiled only for rules whose updated_at changed."""

    def __init__(self) -> None:
        self.rules: list[CompiledRule] = []
        self._by_id: dict[int, CompiledRule] = {}
        # Per (provider, event type): the rules whose patterns match it (an index on `on`).
        self._candidates: dict[tuple[str, str], Candidates] = {}

    def candidates(self, provider: str, event: str) -> Candidates:
        found = self._candidates.get((provider, event))
        if found is None:
            found = self._candidates[(provider, event)] = Candidates(
                [r for r in self.rules if r.patterns.matches(provider, event)])
        return found

    def refresh(self, conn: Connection) -> list[CompiledRule]:
        current = {int(i): float(u) for i, u in conn.fetchall(Q.enabled_rule_versions)}
        stale = [i for i, u in current.items() if i not in self._by_id or self._by_id[i].updated_at != u]
        for rule_id, name, spec in conn.fetchall(Q.rules_by_ids, (conn.array(stale),)) if stale else []:
            try:
                self._by_id[int(rule_id)] = CompiledRule.build(int(rule_id), current[int(rule_id)],
                                                               msgspec.json.decode(spec))
            except Exception as exc:  # checked at apply time; a library upgrade could still refuse it
                log.error("rule does not compile; skipped", rule=name, error=str(exc))
                current.pop(int(rule_id))
        kept = {i: r for i, r in self._by_id.items() if i in current}
        if stale or len(kept) != len(self._by_id):
            self._candidates.clear()
        self._by_id = kept
        self.rules = sorted(self._by_id.values(), key=lambda r: r.name)
        return self.rules


def preview_steps(rule: CompiledRule, context: dict[str, Any], actions: dict[str, Action]) -> list[dict[str, Any]]:
    """What a dry-run records: each step's request as it would be sent (earlier results are unknown)."""
    out = []
    for i, step in enumerate(rule.spec["steps"]):
        action = actions.get(step["action"])
        params = action.params(step) if action is not None else dict(step)
        entry: dict[str, Any] = {"index": i + 1, "id": step.get("id"), "action": step["action"], "state": "dry-run"}
        try:
            rendered = render_value(params, context)
            entry["request"] = action.preview(rendered) if action is not None else rendered
        except Exception as exc:
            entry["error"] = str(exc)
        out.append(entry)
    return out


class RuleMatcher(EventHandler):
    """Registered for every provider by the core (pipeline/handlers.py); replays skip it."""

    name = "automations.rules"
    replayable = False

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.rules = RuleSet()
        self.providers = {p.name: p for p in runtime.providers}
        self._actions: dict[str, Action] | None = None
        self._made = False

    @property
    def actions(self) -> dict[str, Action]:
        if self._actions is None:
            self._actions = action_registry(self.runtime.providers)
        return self._actions

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        rules = self.rules.refresh(conn)
        if not rules:
            return
        rows: list[Run] = []
        for ev in events:
            if ev.origin not in LIVE_ORIGINS:
                continue
            candidates = self.rules.candidates(ev.provider, ev.event)
            if candidates.rules:
                rows += self._runs_for(conn, ev, candidates)
        if not rows:
            return
        made = runs.create(conn, rows)
        if made and any(r[5] == "pending" for r in rows):
            self._made = True
            conn.notify(CHANNEL)  # PostgreSQL: delivered at COMMIT, to executors in every process

    def _runs_for(self, conn: Connection, ev: StoredEvent, candidates: Candidates) -> list[Run]:
        """The runs one event makes: each candidate rule past its guards, condition, hours and window."""
        rows: list[Run] = []
        context = event_context(ev, self.providers.get(ev.provider), with_body=candidates.with_body)
        # The CEL context (the costly conversion) is built by the first rule that gets past its
        # guards, so an event that every candidate's guards turn away never pays for it.
        cel_context = EvalContext(context, candidates.needs)
        ts = float(context["timestamp"])
        passed: dict[tuple[Guard, ...], bool] = {}  # rules often share guards: each checked once
        for rule, guards, program in candidates.plan:
            if guards:
                ok = passed.get(guards)
                if ok is None:
                    ok = passed[guards] = guards_pass(guards, context)
                if not ok:
                    continue
            if program is not None:  # the condition alone decides (Condition.matches, inlined)
                try:
                    hit = program.execute(cel_context.cel()) is True
                except Exception:  # an error on this event's content is no match (Condition.matches)
                    hit = False
                fired: str | None = "" if hit else None
            else:
                fired = self._fires(conn, rule, ev, ts, cel_context)
            if fired is None:
                continue
            if rule.mode == "dry-run":
                rows.append((rule.id, rule.name, ev.id, "dry-run", fired, "dry-run",
                             preview_steps(rule, context, self.actions)))
            else:
                rows.append((rule.id, rule.name, ev.id, "live", fired, "pending", []))
        return rows

    def _fires(self, conn: Connection, rule: CompiledRule, ev: StoredEvent, ts: float,
               context: EvalContext) -> str | None:
        """The window key when the rule fires on this event ('' without a window), else None."""
        if not rule.in_hours(ts):
            return None
        if rule.condition is not None and not rule.condition.matches(context):
            return None
        window = rule.spec.get("window")
        if not window:
            return ""
        key = ""
        if rule.window_by is not None:
            try:
                value = rule.window_by.evaluate(context)
            except ExpressionError:  # no key (the field is absent): nothing to count under
                return None
            key = value if isinstance(value, str) else msgspec.json.encode(value).decode()
        # Workers in other processes count the same key: one at a time, each seeing the other's
        # committed match (SQLite has one writer, which is as serial).
        conn.lock_until_commit(_WINDOW_LOCK, f"{rule.id}:{key[:500]}")
        conn.execute(Q.add_window_match, (rule.id, ev.id, key[:500], ts))
        count = conn.scalar(
            Q.count_window_matches,
            (rule.id, key[:500], ts - window["seconds"], ts),
        )
        return key[:500] if int(count) >= int(window["count"]) else None

    def after_commit(self) -> None:
        if self._made:
            self._made = False
            wake = self.runtime.state.get(WAKE_KEY)
            if wake is not None:
                wake()
