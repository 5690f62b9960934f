"""The dashboard over plain HTTP on a real server, both engines: sign-in and sessions, CSRF refusals,
security headers, escaping of payload text, the masked webhook token, CSV exports."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime

from hookline.store.engine import Database
from tests.dashboard.helpers import TOKEN, XSS, CallCenter, csrf_of, post, processed, signed_in
from tests.support import ADMIN_TOKEN, Server


def test_pages_need_a_session_and_the_admin_token_signs_in(dash: Server) -> None:
    with dash.client() as anon:
        r = anon.get("/aircall/live")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/aircall/live"
        assert anon.get("/aircall/live/board").status_code == 401
        assert anon.get("/live/stream").status_code == 401
        assert anon.get("/healthz").status_code == 200  # receivers and health stay open
        page = anon.get("/login")
        assert page.status_code == 200 and 'name="token"' in page.text
        wrong = anon.post("/login", data={"token": "not-the-token"})
        assert wrong.status_code == 401 and "not the admin token" in wrong.text
        assert "hookline_session" not in wrong.headers.get("set-cookie", "")

        ok = anon.post("/login", data={"token": ADMIN_TOKEN, "next": "/aircall/calls"})
        assert ok.status_code == 303 and ok.headers["location"] == "/aircall/calls"
        cookie = ok.headers["set-cookie"].lower()
        assert "hookline_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        assert "path=/" in cookie and "secure" not in cookie  # plain http here
        assert ADMIN_TOKEN not in ok.headers["set-cookie"]
        page = anon.get("/aircall/calls")
        assert page.status_code == 200 and ADMIN_TOKEN not in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert page.headers["x-content-type-options"] == "nosniff"
    with dash.client() as behind_proxy:
        proxied = behind_proxy.post("/login", data={"token": ADMIN_TOKEN}, headers={"x-forwarded-proto": "https"})
        assert "secure" in proxied.headers["set-cookie"].lower()  # https at the proxy: a Secure cookie
    assert ADMIN_TOKEN not in dash.log()


def test_no_open_redirect_and_no_forged_or_cross_site_session(dash: Server) -> None:
    with dash.client() as c:
        r = c.post("/login", data={"token": ADMIN_TOKEN, "next": "//evil.example/x"})
        assert r.headers["location"] == "/"
        r = c.post("/login", data={"token": ADMIN_TOKEN}, headers={"origin": "https://evil.example"})
        assert r.status_code == 403 and r.json()["error"] == "csrf"
    with dash.client(cookies={"hookline_session": "abc.9999999999.deadbeef"}) as forged:
        assert forged.get("/aircall/live").status_code == 303
        assert forged.get("/api/stats").status_code == 401
    with signed_in(dash) as c:
        value = c.cookies["hookline_session"]
        sid, expires, mac = value.split(".")
        tampered = f"{sid}.{int(expires) + 3600}.{mac}"  # a longer life is a new signature
    with dash.client(cookies={"hookline_session": tampered}) as t:
        assert t.get("/aircall/live").status_code == 303


def test_the_session_reads_the_api_but_writes_only_with_its_csrf_token(dash: Server, db: Database) -> None:
    with signed_in(dash) as c:
        assert c.get("/api/stats").status_code == 200  # the audio player and JSON links use this
        refused = c.post("/api/jobs/retry")
        assert refused.status_code == 401
        token = csrf_of(c.get("/operations").text)
        assert c.post("/api/jobs/retry", headers={"x-csrf-token": token}).status_code == 200
        wrong = token[:-1] + ("1" if token.endswith("0") else "0")
        assert c.post("/api/jobs/retry", headers={"x-csrf-token": wrong}).status_code == 401

        # Forms: sign-out and retry refuse a missing or wrong token.
        assert c.post("/logout", data={"other": "1"}).status_code == 403
        assert c.post("/logout").status_code == 415  # not a form at all
        assert c.post("/deliveries/1/retry", data={"csrf": "nope"}).status_code == 403
        elsewhere = {"origin": "http://elsewhere.example"}
        assert c.post("/logout", data={"csrf": token}, headers=elsewhere).status_code == 403
        assert c.get("/operations").status_code == 200  # still signed in
        out = c.post("/logout", data={"csrf": token})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert "hookline_session=" in out.headers["set-cookie"] and "max-age=0" in out.headers["set-cookie"].lower()
        assert c.get("/operations").status_code == 303


def test_payload_text_is_escaped_everywhere_and_the_webhook_token_masked(dash: Server) -> None:
    cc = CallCenter()
    first, last = XSS, "</td><script>alert(2)</script>"
    post(dash, cc.user_event("user.connected.v2", 41, name="<b>Agent</b> <svg onload=alert(3)>"))
    post(dash, cc.user_event("user.wut_start.v2", 41), cc.user_event("user.wut_end.v2", 41))  # in analytics too
    post(dash, cc.user_event("user.connected.v2", 42, name="=HYPERLINK(1)"))
    post(dash, cc.user_event("user.wut_start.v2", 42), cc.user_event("user.wut_end.v2", 42))
    post(dash, cc.call_event("call.created", 9001, contact_name=(first, last)))
    post(dash, cc.call_event("call.answered", 9001, agent_id=41, status="answered",
                             comments=[{"id": 1, "content": "<script>alert(4)</script>", "posted_at": cc.now()}]))
    processed(dash)
    with signed_in(dash) as c:
        for path in ("/aircall/live", "/aircall/live/board", "/aircall/agents", "/aircall/calls",
                     "/aircall/calls/9001", "/events", "/aircall/analytics"):
            html = c.get(path).text
            assert "<img src=x" not in html and "<script>alert" not in html and "<svg onload" not in html, path
            assert "<b>Agent</b>" not in html, path
        board = c.get("/aircall/live/board").text
        assert "&lt;img src=x onerror=alert(1)&gt;" in board and "&lt;/td&gt;&lt;script&gt;" in board
        charts = c.get("/aircall/analytics").text
        assert "&lt;b&gt;Agent&lt;/b&gt; &lt;svg onload=alert(3)&gt;" in charts  # an SVG label, escaped
        agents_csv = c.get("/aircall/analytics/agents.csv").text
        assert "\n'=HYPERLINK(1)," in agents_csv  # a spreadsheet will not run it as a formula
        call_page = c.get("/aircall/calls/9001").text
        assert "&lt;script&gt;alert(4)&lt;/script&gt;" in call_page

        events = c.get("/api/events", params={"event": "call.created"}).json()["events"]
        raw = c.get(f"/events/{events[0]['id']}").text
        assert TOKEN not in raw and (TOKEN[:4] + "…" + TOKEN[-4:]) in raw  # masked in the raw body
        assert "&lt;img src=x onerror=alert(1)&gt;" in raw


def test_analytics_csv_counts_what_was_posted(dash: Server) -> None:
    cc = CallCenter(seed=9)
    bodies = []
    for i, (direction, answered) in enumerate(
        [("inbound", True), ("inbound", True), ("inbound", False), ("outbound", True)]
    ):
        call_id = 8000 + i
        bodies.append(cc.call_event("call.created", call_id, direction=direction))
        if answered:
            bodies.append(cc.call_event("call.answered", call_id, agent_id=51, status="answered", direction=direction))
        bodies.append(cc.call_event("call.ended", call_id, agent_id=51 if answered else None, status="done",
                                    answered=answered, direction=direction,
                                    missed_call_reason=None if answered else "out_of_opening_hours"))
    bodies.append(cc.user_event("user.wut_start.v2", 51))
    post(dash, *bodies)
    processed(dash)
    today = datetime.now(UTC).date().isoformat()
    with signed_in(dash) as c:
        r = c.get("/aircall/analytics/calls_per_day.csv", params={"from": today, "to": today})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows == [["day", "inbound", "outbound", "missed"], [today, "3", "1", "1"]]
        reasons = list(csv.reader(io.StringIO(
            c.get("/aircall/analytics/missed_reasons.csv", params={"from": today, "to": today}).text)))
        assert reasons == [["reason", "calls"], ["out_of_opening_hours", "1"]]
        rate = list(csv.reader(io.StringIO(
            c.get("/aircall/analytics/answer_rate.csv", params={"from": today, "to": today}).text)))
        assert rate[1] == [today, "66.7"]
        page = c.get("/aircall/analytics", params={"from": today, "to": today}).text
        assert 'id="answer-rate">67%' in page and page.count("<svg") == 6
        assert c.get("/aircall/analytics/nope.csv").status_code == 404
        bad = c.get("/aircall/analytics", params={"from": "2026-02-30"})
        assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text
        assert c.get("/aircall/analytics/calls_per_day.csv", params={"from": "x"}).json()["error"] == "invalid_query"


def test_operations_show_account_state_and_the_raw_event_log(dash: Server) -> None:
    cc = CallCenter(seed=3)
    before = time.time()
    post(dash, cc.user_event("user.connected.v2", 61))
    processed(dash)
    with signed_in(dash) as c:
        ops = c.get("/operations").text
        assert 'data-account="acme"' in ops and "state-active" in ops and "ago" in ops
        assert "1</span> events received" in ops
        events = c.get("/events", params={"event": "user.connected.v2"}).text
        assert "user.connected.v2" in events
        assert c.get("/events/999999").status_code == 404
        assert c.get("/events/abc").status_code == 400
    assert time.time() - before < 30


def test_calendly_and_monday_accounts_on_the_operations_page(dash: Server, db: Database) -> None:
    from hookline.providers.calendly.accounts import AccountStore as CalendlyAccounts
    from hookline.providers.calendly.subscriptions import SubscriptionStore
    from hookline.providers.monday.accounts import AccountStore as MondayAccounts
    from hookline.secretbox import SecretBox

    CalendlyAccounts(db, SecretBox(None)).add("sales", "calendly-token-0123456789", None, None)
    subs = SubscriptionStore(db)
    subs.add("https://api.calendly.com/webhook_subscriptions/A", "sales", "https://x/calendly/webhook",
             ["invitee.created"], "organization", None)
    subs.add("https://api.calendly.com/webhook_subscriptions/B", "sales", "https://x/calendly/webhook",
             ["invitee.canceled"], "organization", None, state="disabled")
    MondayAccounts(db, SecretBox(None)).add("boards", "monday-token-0123456789", None, None)
    with db.connection() as conn:
        conn.execute(
            "INSERT INTO monday_webhooks (id, account, board_id, event, config, url, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("w1", "boards", "b1", "create_item", None, "https://x/monday/webhook", 1.0),
        )
    with signed_in(dash) as c:
        ops = c.get("/operations").text
    calendly = ops[ops.index('id="accounts-calendly-accounts"'):]
    calendly = calendly[: calendly.index("</table>")]
    assert 'data-account="sales"' in calendly and "2 subscriptions" in calendly
    assert "state-disabled" in calendly and "never" in calendly
    monday = ops[ops.index('id="accounts-monday-com-accounts"'):]
    monday = monday[: monday.index("</table>")]
    assert 'data-account="boards"' in monday and "1 webhook on 1 board" in monday and "state-active" in monday
    assert "calendly-token-0123456789" not in ops and "monday-token-0123456789" not in ops


def test_retry_of_an_unknown_delivery_says_so_without_echoing_text(dash: Server) -> None:
    with signed_in(dash) as c:
        token = csrf_of(c.get("/deliveries").text)
        r = c.post("/deliveries/999/retry", data={"csrf": token, "back": "/deliveries?state=all&retried=5"})
        assert r.status_code == 303 and r.headers["location"] == "/deliveries?state=all&refused=999"
        page = c.get(r.headers["location"]).text
        assert "delivery 999 cannot be retried" in page
        assert "will be sent again" not in page
        r = c.post("/deliveries/999/retry", data={"csrf": token, "back": "https://evil.example/"})
        assert r.headers["location"] == "/deliveries?refused=999"  # back only ever leads to a page of ours
        assert c.get("/deliveries", params={"notice": "<b>forged</b>"}).text.count("forged") == 0


def test_csv_cells_with_cr_or_lf_are_quoted_and_formula_guarded(dash: Server) -> None:
    """Python's csv module leaves a bare CR unquoted with "\\n" line ends, and a spreadsheet starts a
    new row there: the CSV has CRLF line ends, quotes such cells, and still guards formulas."""
    cc = CallCenter(seed=11)
    reasons = ["=1+2\rSUM(A1)", "plain\nline", "cr\rinside", "@cmd"]
    bodies = []
    for i, reason in enumerate(reasons):
        call_id = 8100 + i
        bodies.append(cc.call_event("call.created", call_id))
        bodies.append(cc.call_event("call.ended", call_id, status="done", answered=False,
                                    missed_call_reason=reason))
    post(dash, *bodies)
    processed(dash)
    today = datetime.now(UTC).date().isoformat()
    with signed_in(dash) as c:
        r = c.get("/aircall/analytics/missed_reasons.csv", params={"from": today, "to": today})
    assert r.status_code == 200
    text = r.text
    assert text.endswith("\r\n") and text.count("\r\n") == 1 + len(reasons)  # one record a line, nothing split
    assert '"\'=1+2\rSUM(A1)",1\r\n' in text and '"plain\nline",1\r\n' in text and '"cr\rinside",1\r\n' in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["reason", "calls"]
    assert sorted(rows[1:]) == sorted([["'=1+2\rSUM(A1)", "1"], ["plain\nline", "1"], ["cr\rinside", "1"],
                                       ["'@cmd", "1"]])
