"""The Automations and Alerts pages through a real serve: counts, a run's steps, acknowledging."""

from __future__ import annotations

import time

from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.automations.conftest import apply_rules, call_event
from tests.dashboard.helpers import XSS, csrf_of, eventually, signed_in
from tests.support import Server

TOKEN = "automations-dashboard-token-0123456789"
RULE = """
[[rules]]
name = "missed"
on = ["aircall:call.ended"]
if = "data.missed_call_reason != null"

[[rules.steps]]
action = "alert"
severity = "critical"
title = "missed {{ data.raw_digits }}"
"""


def test_rules_runs_and_alerts_pages(db: Database, server: Server) -> None:
    TokenStore(db).add(TOKEN, "acme")
    apply_rules(db, RULE)
    body = call_event("call.ended", missed_call_reason="no_available_agent", raw_digits=XSS, token=TOKEN,
                      timestamp=int(time.time()))
    with server.client() as c:
        assert c.post("/aircall/webhook", json=body).status_code == 200
    with server.admin() as admin:
        assert eventually(lambda: admin.get("/api/alerts?open=true").json()["alerts"], 15)
    with signed_in(server) as client:
        page = client.get("/automations")
        assert page.status_code == 200 and 'data-rule="missed"' in page.text
        assert '<td class="matched">1</td>' in page.text and '<td class="succeeded">1</td>' in page.text
        rule = client.get("/automations/missed")
        assert rule.status_code == 200 and "alert: succeeded" in rule.text
        assert XSS not in rule.text and "&lt;img src=x" in rule.text  # the request shown, escaped
        assert client.get("/automations/nope").status_code == 404
        alerts = client.get("/alerts")
        assert "missed &lt;img" in alerts.text and 'class="ack"' in alerts.text
        alert_id = alerts.text.split('data-alert="')[1].split('"')[0]
        refused = client.post(f"/alerts/{alert_id}/ack", data={"csrf": "forged"})
        assert refused.status_code == 403
        done = client.post(f"/alerts/{alert_id}/ack", data={"csrf": csrf_of(alerts.text)})
        assert done.status_code == 303
        assert 'class="ack"' not in client.get("/alerts").text
        assert "acknowledged" in client.get("/alerts?all=1").text
