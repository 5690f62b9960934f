"""The rule matcher: a pipeline handler that turns matching events into runs, in the worker's transaction.

For each event of the batch and each enabled rule: the `on` patterns, then `hours` (on the event's
timestamp), then the `if` condition, then the `window` (the match is recorded, and the matches of the
same `by` key near it are read back from the database: counted there, so it holds across worker
processes; windows.py decides which fire, whatever order the events arrived in). A live rule gets a
pending run for the executor; a dry-run rule gets a run that records what each step would have sent,
and nothing is sent.

It runs only on live events (not on `hookline rebuild`'s replay of the log), and never does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import msgspec
import structlog

from hookline.automations import runs
from hookline.automations.actions import Action
from hookline.automations.actions import registry as action_registry
from hookline.automations.conditions import EvalContext, Guard, Needs, guards_pass, merge_needs
from hookline.automations.context import event_context
from hookline.automations.spec import CompiledRule
from hookline.automations.templates import render_value
from hookline.automations.windows import firing, window_key
from hookline.pipeline.handlers import EventHandler, StoredEvent
from hookline.runtime import Runtime
from hookline.store.engine import Connection
from hookline.store.events import load_events
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


class WindowMatch(NamedTuple):
    """A match of a windowed rule, counted after the batch's other matches (RuleMatcher._count)."""

    rule: CompiledRule
    ev: StoredEvent
    ts: float
    key: str
    context: dict[str, Any]


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
        windowed: list[WindowMatch] = []
        for ev in events:
            if ev.origin not in LIVE_ORIGINS:
                continue
            candidates = self.rules.candidates(ev.provider, ev.event)
            if candidates.rules:
                rows += self._runs_for(conn, ev, candidates, windowed)
        if windowed:
            rows += self._count(conn, windowed)
        if not rows:
            return
        made = runs.create(conn, rows)
        if made and any(r[5] == "pending" for r in rows):
            self._made = True
            conn.notify(CHANNEL)  # PostgreSQL: delivered at COMMIT, to executors in every process

    def _runs_for(self, conn: Connection, ev: StoredEvent, candidates: Candidates,
                  windowed: list[WindowMatch]) -> list[Run]:
        """The runs one event makes: each candidate rule past its guards, condition and hours; the
        matches of windowed rules go to `windowed`, counted once the whole batch is read (_count)."""
        rows: list[Run] = []
        context = event_context(ev, self.providers.get(ev.provider), with_body=candidates.with_body)
        # The CEL context (the costly conversion) is built by the first rule that gets past its
        # guards, so an event that every candidate's guards turn away never pays for it.
        cel_context = EvalContext(context, candidates.needs)
        converted: Any = None  # cel_context.cel(), kept at hand for the rules after the first
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
                    if converted is None:
                        converted = cel_context.cel()
                    hit = program.execute(converted) is True
                except Exception:  # an error on this event's content is no match (Condition.matches)
                    hit = False
            else:
                key = self._matches(rule, ts, cel_context)
                if key is not None and rule.spec.get("window"):
                    windowed.append(WindowMatch(rule, ev, ts, key, context))
                    continue
                hit = key is not None
            if hit:
                row = self._run(conn, rule, "", ev.id, ev, context)
                if row is not None:
                    rows.append(row)
        return rows

    def _count(self, conn: Connection, windowed: list[WindowMatch]) -> list[Run]:
        """Record the batch's window matches and make the runs of the matches that fire (windows.py)."""
        # Workers in other processes count the same keys: one at a time, each seeing the other's
        # committed matches (SQLite has one writer, which is as serial). The batch takes all its keys'
        # locks first, in one order, so two batches that share keys wait instead of deadlocking.
        for rule_id, key in sorted({(m.rule.id, m.key) for m in windowed}):
            conn.lock_until_commit(_WINDOW_LOCK, f"{rule_id}:{key}")
        rows: list[Run] = []
        for m in windowed:
            window = m.rule.spec["window"]
            seconds = float(window["seconds"])
            conn.execute(Q.add_window_match, (m.rule.id, m.ev.id, m.key, m.ts))
            near = [(float(at), int(i)) for at, i in conn.fetchall(
                Q.window_matches, (m.rule.id, m.key, m.ts - seconds, m.ts + seconds))]
            # Every match from this one on that fires now: the ones that fired before it arrived have
            # their run already (runs.create skips them); the others it completed the window of.
            for event_id in firing(near, (m.ts, m.ev.id), int(window["count"]), seconds):
                row = self._run(conn, m.rule, m.key, event_id, m.ev, m.context)
                if row is not None:
                    rows.append(row)
        return rows

    def _run(self, conn: Connection, rule: CompiledRule, key: str, event_id: int, ev: StoredEvent,
             context: dict[str, Any]) -> Run | None:
        """The run of `event_id`: this event, or one that arrived earlier whose window this one completed."""
        if rule.mode != "dry-run":
            return (rule.id, rule.name, event_id, "live", key, "pending", [])
        if event_id != ev.id:  # its preview renders its own event
            found = load_events(conn, [event_id])
            if not found:  # purged from the log since it matched
                return None
            context = event_context(found[0], self.providers.get(found[0].provider))
        return (rule.id, rule.name, event_id, "dry-run", key, "dry-run", preview_steps(rule, context, self.actions))

    def _matches(self, rule: CompiledRule, ts: float, context: EvalContext) -> str | None:
        """Past hours and condition: the window key ('' without a window, or none by `by`), else None."""
        if not rule.in_hours(ts):
            return None
        if rule.condition is not None and not rule.condition.matches(context):
            return None
        return window_key(rule, context) if rule.spec.get("window") else ""

    def after_commit(self) -> None:
        if self._made:
            self._made = False
            wake = self.runtime.state.get(WAKE_KEY)
            if wake is not None:
                wake()
