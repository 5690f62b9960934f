"""Ready-made rules (the security layer): every template renders into a rule that `rules apply`
would accept; `rules templates` lists them and `rules add` stores one (bad --set refused, exit 2);
the outbound-burst and out-of-hours templates open an alert and notify from real events."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from hookline.automations import alerts
from hookline.automations.actions import registry as actions
from hookline.automations.ready_rules import RuleTemplate, TemplateParamError, registry
from hookline.automations.rulefile import parse_rules
from hookline.providers.registry import providers
from hookline.store.engine import Database
from hookline.testing.aircall.fake_api import FakeAccount
from hookline.testing.calendly.fake_api import FakeCalendly
from tests.automations.conftest import append, call_event, run_rows, runtime_for
from tests.automations.test_executor import all_done, execute
from tests.providers.aircall.conftest import FakeAircall
from tests.providers.calendly.conftest import fake_calendly
from tests.providers.calendly.test_watchdog import manage
from tests.providers.fake_server import RunningApp
from tests.sink import Sink
from tests.support import Server, run_cli, run_cli_process

__all__ = ["fake_calendly"]

TEMPLATES = registry(providers())
NOTIFY = "json://127.0.0.1:9/hook"


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink().start()
    try:
        yield s
    finally:
        s.close()


def test_the_security_layer_is_there() -> None:
    assert {"hookline-failed-sign-ins", "aircall-premium-or-foreign-calls", "aircall-outbound-burst",
            "aircall-out-of-hours-calls", "aircall-user-changes", "aircall-number-changes",
            "aircall-integration-deleted"} <= set(TEMPLATES)


@pytest.mark.parametrize("template", list(TEMPLATES.values()), ids=lambda t: t.name)
def test_every_template_renders_into_a_valid_rule_that_alerts_and_notifies(template: RuleTemplate) -> None:
    [spec] = parse_rules([template.rule("from-template", {"notify": NOTIFY})], actions(providers()))
    assert [s["action"] for s in spec["steps"]] == ["alert", "notify"]
    assert spec["steps"][1]["url"] == NOTIFY and spec["mode"] == "live"


def test_template_parameters_are_checked() -> None:
    burst = TEMPLATES["aircall-outbound-burst"]
    with pytest.raises(TemplateParamError, match="notify"):
        burst.rule("x", {})
    with pytest.raises(TemplateParamError, match="unknown parameter"):
        burst.rule("x", {"notify": NOTIFY, "cuont": "3"})
    with pytest.raises(TemplateParamError, match="whole number"):
        burst.rule("x", {"notify": NOTIFY, "count": "many"})
    foreign = TEMPLATES["aircall-premium-or-foreign-calls"]
    with pytest.raises(TemplateParamError, match="ISO country"):
        foreign.rule("x", {"notify": NOTIFY, "countries": 'FR,") || true || ("'})
    # A --set value is data, never CEL code: quotes stay inside a string literal.
    spec = foreign.rule("x", {"notify": NOTIFY, "countries": "FR,GB", "premium_prefixes": "+1900"})
    assert spec["if"].count('"FR"') == 1 and "startsWith" not in spec["if"]


def test_cli_lists_templates_and_adds_a_rule(db: Database, database_url: str) -> None:
    listed = run_cli("rules", "templates", "--json", database_url=database_url)
    assert listed.returncode == 0
    names = [t["name"] for t in json.loads(listed.stdout)]
    assert "aircall-outbound-burst" in names and "notify" in listed.stdout
    added = run_cli("rules", "add", "burst", "--template", "aircall-outbound-burst", "--set", f"notify={NOTIFY}",
                    "--set", "count=3", database_url=database_url)
    assert added.returncode == 0, added.stderr
    shown = json.loads(run_cli("rules", "show", "burst", "--json", database_url=database_url).stdout)
    assert shown["spec"]["window"]["count"] == 3 and shown["spec"]["on"] == ["aircall:call.created"]
    again = run_cli("rules", "add", "burst", "--template", "aircall-outbound-burst", "--set", f"notify={NOTIFY}",
                    database_url=database_url)
    assert again.returncode == 2 and "exists already" in again.stderr
    for args, why in (
        (["--template", "nope", "--set", f"notify={NOTIFY}"], "no rule template named 'nope'"),
        (["--template", "aircall-outbound-burst"], "--set notify=...: required"),
        (["--template", "aircall-outbound-burst", "--set", "notify"], "expected key=value"),
        (["--template", "aircall-out-of-hours-calls", "--set", f"notify={NOTIFY}", "--set", "tz=Mars/Base"],
         "tz"),
    ):
        refused = run_cli("rules", "add", "other", *args, database_url=database_url)
        assert refused.returncode == 2 and why in " ".join(refused.stderr.split()), refused.stderr
        assert "Traceback" not in refused.stderr
    assert [r["name"] for r in json.loads(run_cli("rules", "list", "--json", database_url=database_url).stdout)] \
        == ["burst"]


def add(db: Database, database_url: str, name: str, template: str, **sets: str) -> None:
    args = [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
    added = run_cli("rules", "add", name, "--template", template, *args, database_url=database_url)
    assert added.returncode == 0, added.stderr


def test_an_outbound_burst_opens_one_alert_and_notifies_once(db: Database, database_url: str, sink: Sink) -> None:
    add(db, database_url, "burst", "aircall-outbound-burst", notify=f"json://127.0.0.1:{sink.port}/hook",
        count="3", seconds="60", severity="critical")
    t = int(time.time())
    agent = {"id": 7, "name": "Ada"}
    calls = [call_event(direction="outbound", user=agent, raw_digits="+44 20 7946 0000", id=100 + i, timestamp=t + i)
             for i in range(5)]
    calls.insert(2, call_event(direction="inbound", user=agent, id=99, timestamp=t + 2))  # not outbound
    calls.append(call_event(direction="outbound", user={"id": 8, "name": "Bob"}, id=200, timestamp=t + 3))
    # Ada's 3rd, 4th and 5th outbound calls fire; one alert is opened and notified, the others count.
    append(db, calls)
    found = execute(runtime_for(database_url), db, lambda f: len(f) == 3 and all_done(f))
    assert [r["state"] for r in found] == ["succeeded"] * 3
    with db.connection() as conn:
        [alert] = alerts.list_alerts(conn, open_only=True)
    assert (alert["window_key"], alert["count"], alert["severity"]) == ("7", 3, "critical")
    assert alert["title"] == "Ada placed 3 outbound calls within 60 s"
    [sent] = sink.snapshot()
    assert sent.json["title"] == "Ada placed 3 outbound calls within 60 s"


def _ts(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp())


def test_a_call_outside_business_hours_opens_an_alert(db: Database, database_url: str, sink: Sink) -> None:
    add(db, database_url, "after-hours", "aircall-out-of-hours-calls",
        notify=f"json://127.0.0.1:{sink.port}/hook", tz="Europe/Paris", start="09:00", end="18:00")
    number = {"id": 5, "name": "Support FR"}
    ids = append(db, [
        call_event(direction="inbound", number=number, id=1, timestamp=_ts("2026-12-02T10:00:00")),  # Wed 11:00 Paris
        call_event(direction="inbound", number=number, id=2, timestamp=_ts("2026-12-02T17:30:00")),  # Wed 18:30 Paris
        call_event(direction="outbound", number=number, id=3, timestamp=_ts("2026-12-05T10:00:00")),  # Saturday
    ])
    found = execute(runtime_for(database_url), db, lambda f: len(f) == 2 and all_done(f))
    with db.connection() as conn:
        [alert] = alerts.list_alerts(conn, open_only=True)
    assert {r["event_id"] for r in found} == set(ids[1:]) and [r["state"] for r in found] == ["succeeded"] * 2
    assert alert["count"] == 2 and alert["title"] == "calls outside business hours on Support FR"
    [sent] = sink.snapshot()
    assert sent.json["title"] == alert["title"]


def test_premium_or_foreign_calls_fire_on_those_numbers_only(db: Database, database_url: str, sink: Sink) -> None:
    add(db, database_url, "foreign", "aircall-premium-or-foreign-calls",
        notify=f"json://127.0.0.1:{sink.port}/hook", countries="FR,GB")
    agent = {"id": 7, "name": "Ada"}
    ids = append(db, [
        call_event(direction="outbound", user=agent, raw_digits="+33 1 23 45 67 89", country_code_a2="FR"),
        call_event(direction="outbound", user=agent, raw_digits="+1 900 555 0100", country_code_a2="GB"),
        call_event(direction="outbound", user=agent, raw_digits="+49 30 1234567", country_code_a2="DE"),
        call_event(direction="inbound", user=agent, raw_digits="+49 30 7654321", country_code_a2="DE"),
        call_event(direction="outbound", user=agent, raw_digits="+33 89 12 34 56", country_code_a2="FR"),
    ])
    found = execute(runtime_for(database_url), db, lambda f: len(f) == 3 and all_done(f))
    assert {r["event_id"] for r in found} == {ids[1], ids[2], ids[4]}
    with db.connection() as conn:
        [alert] = alerts.list_alerts(conn, open_only=True)
    assert alert["count"] == 3 and len(sink.snapshot()) == 1


@pytest.mark.parametrize(("template", "events", "key"), [
    ("aircall-user-changes", ["user.created", "user.deleted"], "id"),
    ("aircall-number-changes", ["number.created", "number.deleted"], "id"),
    # Aircall's documented payload: {integration_id, company_id}, no id.
    ("aircall-integration-deleted", ["integration.deleted", "integration.deleted"], "integration_id"),
])
def test_a_user_number_or_integration_change_opens_one_alert_per_resource(
    db: Database, database_url: str, sink: Sink, template: str, events: list[str], key: str
) -> None:
    from hookline.testing.aircall.samples import sample_event

    add(db, database_url, "changes", template, notify=f"json://127.0.0.1:{sink.port}/hook")
    t = int(time.time())
    # Two changes of resource 42 (one alert, counted twice), one of resource 43, and a call (no match).
    ids = append(db, [sample_event(events[0], timestamp=t, **{key: 42}),
                      sample_event(events[1], timestamp=t + 1, **{key: 42}),
                      sample_event(events[0], timestamp=t + 2, **{key: 43}), call_event(timestamp=t + 3)])
    found = execute(runtime_for(database_url), db, lambda f: len(f) == 3 and all_done(f))
    assert {r["event_id"] for r in found} == set(ids[:3]) and {r["state"] for r in found} == {"succeeded"}
    with db.connection() as conn:
        opened = alerts.list_alerts(conn, open_only=True)
    assert sorted((a["window_key"], a["count"]) for a in opened) == [("42", 2), ("43", 1)]
    assert all("{{" not in a["title"] and a["title"].startswith("Aircall ") for a in opened)
    if key == "integration_id":
        assert sorted(a["title"] for a in opened) == ["Aircall integration deleted: 42",
                                                      "Aircall integration deleted: 43"]
    assert sorted(s.json["title"] for s in sink.snapshot()) == sorted(a["title"] for a in opened)  # once each


def test_a_webhook_the_watchdog_found_deactivated_opens_an_alert(
    db: Database, database_url: str, sink: Sink, fake_aircall: FakeAircall, acme: FakeAccount
) -> None:
    add(db, database_url, "hook-off", "aircall-webhook-deactivated", notify=f"json://127.0.0.1:{sink.port}/hook",
        severity="critical")
    public = "https://hooks.example.com"
    hook = fake_aircall.call(lambda: fake_aircall.state.create_webhook(public + "/aircall/webhook", ["call.created"],
                                                                       account="acme"))
    fake_aircall.call(lambda: fake_aircall.state.set_webhook_active(hook["webhook_id"], False))
    env = fake_aircall.env(HOOKLINE_PUBLIC_URL=public)
    for _ in range(2):  # a second pass finds it active again: one incident, one event
        assert run_cli_process("aircall", "watchdog", "--once", database_url=database_url, env=env).returncode == 0
    [run] = execute(runtime_for(database_url), db, all_done)
    assert run["state"] == "succeeded"
    with db.connection() as conn:
        [alert] = alerts.list_alerts(conn, open_only=True)
        [(origin, known)] = conn.fetchall("SELECT origin, known FROM events WHERE event = ?",
                                          ("hookline.webhook_deactivated",))
    assert (origin, bool(known)) == ("watchdog", False)
    assert alert["title"] == f"Aircall deactivated webhook {hook['webhook_id']} of acme"
    assert alert["severity"] == "critical" and alert["window_key"] == str(hook["webhook_id"])
    [sent] = sink.snapshot()
    assert sent.json["title"] == alert["title"] and "incident 1" in sent.json["message"]


def test_a_calendly_subscription_the_watchdog_found_disabled_opens_an_alert(
    db: Database, database_url: str, sink: Sink, fake_calendly: tuple[FakeCalendly, RunningApp]
) -> None:
    fake, running = fake_calendly
    old_uuid = manage(db, fake, running, "https://hooks.example/calendly/webhook")
    add(db, database_url, "calendly-off", "calendly-subscription-disabled",
        notify=f"json://127.0.0.1:{sink.port}/hook")
    fake.disable(old_uuid)
    out = run_cli("calendly", "watchdog", "--once", database_url=database_url,
                  env={"HOOKLINE_CALENDLY_API_URL": running.url})
    assert out.returncode == 0, out.stderr
    [run] = execute(runtime_for(database_url), db, all_done)
    assert run["state"] == "succeeded" and len(run_rows(db)) == 1
    with db.connection() as conn:
        [alert] = alerts.list_alerts(conn, open_only=True)
    assert alert["title"] == f"Calendly subscription {old_uuid} of acme was disabled"
    (new,) = fake.subscriptions.values()
    [sent] = sink.snapshot()
    assert new.uuid in sent.json["message"]


def test_repeated_failed_sign_ins_open_one_alert(
    db: Database, database_url: str, sink: Sink, start_server: Callable[..., Server]
) -> None:
    """Wrong admin tokens at /login and on /api become hookline's own events (from the refusal, not
    from the request), which the hookline-failed-sign-ins template counts: the 3rd within the window
    opens an alert and notifies; the 4th adds to it."""
    add(db, database_url, "sign-ins", "hookline-failed-sign-ins", notify=f"json://127.0.0.1:{sink.port}/hook",
        count="3", seconds="60", severity="critical")
    server = start_server()
    guess = "guessed-token-that-must-not-be-stored"
    attacker = {"x-forwarded-for": "203.0.113.7"}  # the test talks from 127.0.0.1, a trusted proxy

    def stored(n: int) -> None:
        """Wait for the n-th event: each is written by its own thread, and a window counts in the
        order the worker sees the events (one at a time here, as a guesser's attempts would come)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with db.connection() as conn:
                if conn.scalar("SELECT count(*) FROM events WHERE provider = 'hookline'") >= n:
                    return
            time.sleep(0.05)
        raise AssertionError(f"sign-in failure {n} not recorded")

    with server.client() as c:
        for i in range(3):
            r = c.post("/login", data={"token": guess, "next": "/operations"}, headers=attacker)
            assert r.status_code == 401
            stored(i + 1)
        assert c.get("/api/events", headers={"authorization": f"Bearer {guess}", **attacker}).status_code == 401
        stored(4)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not sink.snapshot():
        time.sleep(0.1)
    [sent] = sink.snapshot()
    assert sent.json["title"] == "3 failed sign-ins to hookline within 60 s"
    deadline = time.monotonic() + 20  # the 4th failure's run adds to the open alert
    while time.monotonic() < deadline and (len(found := run_rows(db, "sign-ins")) < 2 or not all_done(found)):
        time.sleep(0.1)
    with db.connection() as conn:
        [alert] = alerts.list_alerts(conn, open_only=True)
        bodies = [json.loads(bytes(b)) for (b,) in conn.fetchall(
            "SELECT body FROM events WHERE provider = 'hookline' AND event = 'auth.sign_in_failed' ORDER BY id")]
    assert (alert["severity"], alert["count"]) == ("critical", 2)
    assert sorted((b["data"] for b in bodies), key=lambda d: d["path"]) == [
        {"address": "203.0.113.7", "path": "/api/events", "surface": "api"}] + [
        {"address": "203.0.113.7", "path": "/login", "surface": "login"}] * 3
    assert guess not in json.dumps(bodies) and "sign-ins" in {r["rule_name"] for r in run_rows(db)}


def test_sign_in_signals_keep_nothing_of_the_request_and_are_rate_limited(db: Database) -> None:
    from hookline.automations.signals import SignInSignals

    signals = SignInSignals(db, per_minute=2)
    signals("x" * 5000, "/login", "login")  # called outside an event loop: written at once
    signals("198.51.100.9", "/api/events", "api")
    signals("198.51.100.9", "/api/events", "api")  # the third within the minute: only counted
    with db.connection() as conn:
        rows = conn.fetchall("SELECT provider, account, event, origin, body FROM events ORDER BY id")
    assert [(p, a, e, o) for p, a, e, o, _ in rows] == [("hookline", "local", "auth.sign_in_failed", "watchdog")] * 2
    first = json.loads(bytes(rows[0][4]))
    assert first["data"] == {"address": "x" * 100, "path": "/login", "surface": "login"}
    assert signals.dropped == 1
