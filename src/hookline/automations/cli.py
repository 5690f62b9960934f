"""`hookline rules ...`, `hookline runs ...` and `hookline alerts ...`."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from hookline.clitools import console, fail, open_database, providers

rules_app = typer.Typer(help="Rules: act on events (docs/automations.md).", no_args_is_help=True)
runs_app = typer.Typer(help="Runs: each rule's work for each matching event.", no_args_is_help=True)
alerts_app = typer.Typer(help="Alerts opened by rules.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
    app.add_typer(runs_app, name="runs")
    app.add_typer(alerts_app, name="alerts")


def _when(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


# -- rules -------------------------------------------------------------------------------------------


@rules_app.command("apply")
def rules_apply(
    file: Path = typer.Argument(..., help="A TOML file of [[rules]] tables"),
    prune: bool = typer.Option(False, "--prune", help="Remove the stored rules the file does not name"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the file and say what would change; store nothing"),
) -> None:
    """Create or update every rule in FILE atomically; the whole file is refused on any error."""
    from hookline.automations import rules
    from hookline.automations.actions import registry
    from hookline.automations.rulefile import RuleFileError, parse

    try:
        text = file.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}", 2)
    try:
        specs = parse(text, registry(providers()))
    except RuleFileError as exc:
        fail(f"{file} refused, nothing stored:\n  " + "\n  ".join(exc.errors), 2)
    db = open_database()
    with db.connection() as conn, conn.transaction():
        result = rules.apply(conn, specs, prune=prune, write=not dry_run)
    prefix = "would be " if dry_run else ""
    changes = {k: v for k, v in result.as_json().items() if k != "unchanged" and v}
    for label, names in changes.items():
        console.print(f"{prefix}{label}: {', '.join(names)}", highlight=False)
    if not changes:
        console.print("no rules in the file" if not specs else f"nothing to change ({len(specs)} rules)")


@rules_app.command("templates")
def rules_templates(as_json: bool = typer.Option(False, "--json", help="JSON output")) -> None:
    """Ready-made rules (the security layer) that `rules add NAME --template T` turns into a rule."""
    from hookline.automations.ready_rules import registry

    found = registry(providers())
    if as_json:
        _print_json([{"name": t.name, "description": t.description,
                      "params": [{"name": p.name, "default": p.default, "help": p.help} for p in t.all_params()]}
                     for t in found.values()])
        return
    for t in found.values():
        console.print(f"[bold]{t.name}[/bold]: {t.description}")
        for p in t.all_params():
            default = "required" if p.default is None else f"default {p.default!r}"
            console.print(f"    --set {p.name}=...  {p.help} ({default})", highlight=False, markup=False)


@rules_app.command("add")
def rules_add(
    name: str = typer.Argument(..., help="The new rule's name"),
    template: str = typer.Option(..., "--template", help="A template from `hookline rules templates`"),
    sets: list[str] = typer.Option([], "--set", help="key=value, a template parameter (repeatable)"),
) -> None:
    """Add a rule from a ready-made template; it is checked as `rules apply` checks a file."""
    from hookline.automations import rules
    from hookline.automations.actions import registry as actions
    from hookline.automations.ready_rules import TemplateParamError, registry
    from hookline.automations.rulefile import RuleFileError, parse_rules

    provs = providers()
    found = registry(provs).get(template)
    if found is None:
        fail(f"no rule template named {template!r} (see `hookline rules templates`)", 2)
    values: dict[str, str] = {}
    for item in sets:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            fail(f"--set {item!r}: expected key=value", 2)
        values[key.strip()] = value
    try:
        [spec] = parse_rules([found.rule(name, values)], actions(provs))
    except TemplateParamError as exc:
        fail(str(exc), 2)
    except RuleFileError as exc:
        fail(f"template {template} refused, nothing stored:\n  " + "\n  ".join(exc.errors), 2)
    db = open_database()
    with db.connection() as conn, conn.transaction():
        if rules.get(conn, name) is not None:
            fail(f"a rule named {name!r} exists already (remove it first, or pick another name)", 2)
        rules.apply(conn, [spec], prune=False, write=True)
    console.print(f"rule {name} added from template {template}", highlight=False)


@rules_app.command("list")
def rules_list(as_json: bool = typer.Option(False, "--json", help="JSON output")) -> None:
    """Every rule, with its runs over the last 24 hours (credentials masked)."""
    import time

    from hookline.automations import rules, runs

    db = open_database()
    with db.connection() as conn:
        found = rules.list_rules(conn)
        counts = runs.counts_by_rule(conn, time.time() - 86400)
    if as_json:
        _print_json([{**r.as_json(), "runs_24h": counts.get(r.name, {})} for r in found])
        return
    table = Table("name", "on", "mode", "enabled", "runs 24h", "updated")
    for r in found:
        c = counts.get(r.name, {})
        table.add_row(r.name, ", ".join(r.spec["on"]), r.spec.get("mode", "live"), "yes" if r.enabled else "no",
                      ", ".join(f"{k} {v}" for k, v in sorted(c.items())), _when(r.updated_at))
    console.print(table)


@rules_app.command("show")
def rules_show(name: str, as_json: bool = typer.Option(False, "--json", help="JSON output")) -> None:
    """One rule as stored, credentials masked (`rules export` prints them verbatim)."""
    from hookline.automations import rules

    db = open_database()
    with db.connection() as conn:
        rule = rules.get(conn, name)
    if rule is None:
        fail(f"no rule named {name!r}", 2)
    if as_json:
        _print_json(rule.as_json())
        return
    import tomli_w

    console.print(tomli_w.dumps(rules.export([rule.masked()])), highlight=False, markup=False)


@rules_app.command("export")
def rules_export() -> None:
    """Every rule as a TOML file that `rules apply` takes back: verbatim, secrets (tokens, passwords in
    URLs, Apprise URLs) included, unlike `rules list/show`. Keep it where you keep secrets."""
    import tomli_w

    from hookline.automations import rules

    db = open_database()
    with db.connection() as conn:
        found = rules.list_rules(conn)
    sys.stdout.write(tomli_w.dumps(rules.export(found)))


def _set_enabled(name: str, enabled: bool) -> None:
    from hookline.automations import rules

    db = open_database()
    with db.connection() as conn, conn.transaction():
        ok = rules.set_enabled(conn, name, enabled)
    if not ok:
        fail(f"no rule named {name!r}", 2)
    console.print(f"rule {name} {'enabled' if enabled else 'disabled'}")


@rules_app.command("enable")
def rules_enable(name: str) -> None:
    """Match events against this rule again."""
    _set_enabled(name, True)


@rules_app.command("disable")
def rules_disable(name: str) -> None:
    """Stop matching this rule (its runs already created still execute)."""
    _set_enabled(name, False)


@rules_app.command("remove")
def rules_remove(name: str) -> None:
    """Delete a rule with its runs (alerts it opened stay)."""
    from hookline.automations import rules

    db = open_database()
    with db.connection() as conn, conn.transaction():
        ok = rules.remove(conn, name)
    if not ok:
        fail(f"no rule named {name!r}", 2)
    console.print(f"rule {name} removed")


@rules_app.command("test")
def rules_test(
    name: str,
    since: str = typer.Option(..., "--since", help="ISO 8601 or unix seconds, on the events' timestamps"),
    until: str | None = typer.Option(None, "--until", help="ISO 8601 or unix seconds (default: now)"),
    as_json: bool = typer.Option(False, "--json", help="JSON output"),
) -> None:
    """Backtest a rule over stored events: matched, would_run, samples. Nothing is written or sent."""
    from hookline.automations import rules
    from hookline.automations.actions import registry
    from hookline.automations.backtest import backtest
    from hookline.automations.spec import CompiledRule
    from hookline.timeparse import parse_time

    try:
        start = parse_time(since)
        end = None if until is None else parse_time(until)
    except ValueError as exc:
        fail(str(exc), 2)
    db = open_database()
    with db.connection() as conn:
        rule = rules.get(conn, name)
        if rule is None:
            fail(f"no rule named {name!r}", 2)
        compiled = CompiledRule.build(rule.id, rule.updated_at, rule.spec)
        provs = providers()
        result = backtest(conn, compiled, {p.name: p for p in provs}, registry(provs), start, end)
    if as_json:
        _print_json(result)
        return
    console.print(f"{result['events']} events, matched {result['matched']}, would run {result['would_run']}")
    for sample in result["samples"]:
        console.print(f"  event {sample['event_id']} {sample['event']} at {_when(sample['timestamp'])}",
                      highlight=False)


# -- runs --------------------------------------------------------------------------------------------


@runs_app.command("list")
def runs_list(
    rule: str | None = typer.Option(None, "--rule", help="Only this rule's runs"),
    state: str | None = typer.Option(None, "--state", help="pending, running, succeeded, failed, parked, dry-run"),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    as_json: bool = typer.Option(False, "--json", help="JSON output"),
) -> None:
    """Runs, newest first."""
    from hookline.automations import runs

    if state is not None and state not in runs.STATES:
        fail(f"unknown state {state!r} (one of {', '.join(runs.STATES)})", 2)
    db = open_database()
    with db.connection() as conn:
        found = runs.list_runs(conn, rule=rule, state=state, limit=limit)
    if as_json:
        _print_json(found)
        return
    table = Table("id", "rule", "event", "state", "attempts", "steps", "error", "created")
    for r in found:
        steps = " ".join(f"{s.get('action')}:{s.get('state')}" for s in r["steps"])
        table.add_row(str(r["id"]), r["rule_name"], str(r["event_id"]), r["state"], str(r["attempts"]), steps,
                      (r["last_error"] or "")[:60], _when(r["created_at"]))
    console.print(table)


@runs_app.command("retry")
def runs_retry(run_id: int = typer.Argument(..., help="A failed or parked run")) -> None:
    """Queue a failed or parked run again (steps that succeeded are not repeated)."""
    from hookline.automations import runs

    db = open_database()
    with db.connection() as conn, conn.transaction():
        ok = runs.retry(conn, run_id)
        found = runs.get(conn, run_id)
    if found is None:
        fail(f"no run {run_id}", 2)
    if not ok:
        fail(f"run {run_id} is {found['state']}: only failed or parked runs are retried", 2)
    console.print(f"run {run_id} queued again")


# -- alerts ------------------------------------------------------------------------------------------


@alerts_app.command("list")
def alerts_list(
    open_only: bool = typer.Option(False, "--open", help="Only alerts not acknowledged"),
    as_json: bool = typer.Option(False, "--json", help="JSON output"),
) -> None:
    """Alerts, newest first."""
    from hookline.automations import alerts

    db = open_database()
    with db.connection() as conn:
        found = alerts.list_alerts(conn, open_only=open_only)
    if as_json:
        _print_json(found)
        return
    table = Table("id", "rule", "key", "severity", "title", "count", "opened", "acked")
    for a in found:
        table.add_row(str(a["id"]), a["rule_name"], a["window_key"], a["severity"], a["title"], str(a["count"]),
                      _when(a["opened_at"]), _when(a["acked_at"]))
    console.print(table)


@alerts_app.command("ack")
def alerts_ack(alert_id: int) -> None:
    """Acknowledge an alert: the rule's next match opens a new one."""
    from hookline.automations import alerts

    db = open_database()
    with db.connection() as conn, conn.transaction():
        found = alerts.ack(conn, alert_id)
    if found is None:
        fail(f"no alert {alert_id}", 2)
    console.print(f"alert {alert_id} acknowledged")
