"""The dashboard in a real browser (Debian's Chromium through Playwright), on both engines: sign-in,
a live call appearing and leaving on posted events, an agent changing state, the calls filters, the
retry button, and a hostile contact name rendered as text. Screenshots go to test-artifacts/."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from hookline.forwarding.destinations import DestinationStore
from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.dashboard.helpers import XSS, CallCenter, artifact, eventually, post, processed, sign_in
from tests.sink import Answer, Sink
from tests.support import Server, archived_recording

FAST_DELIVERY = {
    "HOOKLINE_DELIVERY_MAX_ATTEMPTS": "1",
    "HOOKLINE_DELIVERY_POLL_SECONDS": "0.2",
    "HOOKLINE_DELIVERY_TIMEOUT_SECONDS": "2",
}


def test_live_call_and_agent_states_follow_posted_events(page: Any, dash: Server, engine: str) -> None:
    cc = CallCenter(seed=21)
    post(dash, cc.user_event("user.connected.v2", 81, name="Grace Hopper"))
    processed(dash)
    sign_in(page, dash)
    page.wait_for_selector("body[data-live-connected='1']")
    agent = page.locator('#agents tr[data-agent="81"]')
    assert agent.get_attribute("data-state") == "available"

    sent = time.monotonic()
    post(dash, cc.call_event("call.created", 9101, contact_name=(XSS, "")))
    row = page.locator('#live-calls tr[data-call="9101"]')
    row.wait_for(state="attached", timeout=3000)
    assert time.monotonic() - sent < 2.0  # the page followed the event, nobody reloaded
    assert row.locator("td.contact").inner_text() == XSS  # shown as text...
    assert page.locator("#live-calls img").count() == 0  # ...never as an element
    assert row.get_attribute("data-state") == "ringing"
    first = row.locator("td.duration").inner_text()
    # The running duration ticks in the browser. expect() polls from Python: a string predicate
    # (wait_for_function) is eval'd in the page, which the dashboard's CSP rightly refuses.
    expect(row.locator("td.duration")).not_to_have_text(first, timeout=5000)

    post(dash, cc.call_event("call.answered", 9101, agent_id=81, status="answered"))
    page.wait_for_selector('#live-calls tr[data-call="9101"][data-state="answered"]')
    page.wait_for_selector('#agents tr[data-agent="81"][data-state="on_call"]')
    page.screenshot(path=str(artifact(f"live-call-{engine}.png")))

    post(dash, cc.call_event("call.hungup", 9101, agent_id=81, status="done"))
    row.wait_for(state="detached", timeout=3000)  # gone at hang-up, before call.ended
    post(dash, cc.user_event("user.wut_start.v2", 81))
    page.wait_for_selector('#agents tr[data-agent="81"][data-state="wrap_up"]')
    assert "in wrap-up" in agent.inner_text()
    post(dash, cc.user_event("user.wut_end.v2", 81))
    page.wait_for_selector('#agents tr[data-agent="81"][data-state="available"]')
    post(dash, cc.user_event("user.disconnected.v2", 81))
    page.wait_for_selector('#agents tr[data-agent="81"][data-state="offline"]')
    assert page.dialogs == []


def test_call_history_filters_and_the_call_page(page: Any, dash: Server) -> None:
    cc = CallCenter(seed=22)
    bodies = []
    for call_id, direction, answered in ((9201, "inbound", True), (9202, "outbound", True), (9203, "inbound", False)):
        bodies.append(cc.call_event("call.created", call_id, direction=direction))
        bodies.append(cc.call_event("call.ended", call_id, agent_id=82 if answered else None, status="done",
                                    answered=answered, direction=direction))
    bodies.append(cc.call_event("call.commented", 9201, agent_id=82, status="done", direction="inbound",
                                comments=[{"id": 5, "content": XSS, "posted_at": cc.now()}]))
    post(dash, *bodies)
    processed(dash)
    sign_in(page, dash, "/aircall/calls")

    def shown() -> set[str]:
        return {r.get_attribute("data-call") for r in page.locator("#calls tbody tr[data-call]").all()}

    assert shown() == {"9201", "9202", "9203"}
    page.select_option("select[name=direction]", "outbound")
    page.click("#call-filters button[type=submit]")
    page.wait_for_url("**direction=outbound**")
    assert shown() == {"9202"}
    page.select_option("select[name=direction]", "")
    page.select_option("select[name=missed]", "true")
    page.click("#call-filters button[type=submit]")
    page.wait_for_url("**missed=true**")
    assert shown() == {"9203"}
    assert "missed" in page.locator('#calls tr[data-call="9203"]').inner_text()

    page.goto(dash.url + "/aircall/calls")
    page.click('#calls tr[data-call="9201"] a')
    page.wait_for_url("**/aircall/calls/9201**")
    assert page.locator("#comments li").first.inner_text().startswith(XSS)
    assert [t.inner_text() for t in page.locator("#timeline tbody tr td:nth-child(2)").all()] == [
        "call.created", "call.ended", "call.commented"]
    page.wait_for_selector("#recording[data-checked='1']", state="attached")
    assert page.locator("#recording audio").count() == 0  # not archived (no recording_archived flag)
    assert page.dialogs == []


def test_the_call_page_plays_the_archived_recording(
    page: Any, db: Database, start_server: Callable[..., Server], tmp_path: Path
) -> None:
    from tests.dashboard.helpers import TOKEN

    TokenStore(db).add(TOKEN, "acme")
    archive = tmp_path / "recordings"
    mp3 = archived_recording(db, archive, "acme", 9301)
    server = start_server(env={"HOOKLINE_RECORDINGS_DIR": str(archive)})
    cc = CallCenter(seed=24)
    post(server, cc.call_event("call.created", 9301), cc.call_event("call.ended", 9301, agent_id=84, status="done"))
    processed(server)
    sign_in(page, server, "/aircall/calls/9301")
    page.wait_for_selector("#recording[data-checked='1']", state="attached")
    player = page.locator("#recording audio.player-recording")
    assert player.count() == 1 and page.locator("#recording audio.player-voicemail").count() == 0
    src = player.get_attribute("src")
    assert src == "/api/calls/9301/recording?account=acme"
    # The browser's own session reads the file (the admin API accepts the cookie for GET).
    status, kind, size = page.evaluate(
        "src => fetch(src).then(r => r.arrayBuffer()"
        "  .then(b => [r.status, r.headers.get('content-type'), b.byteLength]))",
        src,
    )
    assert (status, kind, size) == (200, "audio/mpeg", len(mp3))
    assert page.dialogs == []


def test_the_retry_button_sends_a_dead_delivery_again(
    page: Any, db: Database, start_server: Callable[..., Server]
) -> None:
    sink = Sink().start()
    try:
        sink.default = Answer(500)
        DestinationStore(db).add("crm", sink.url)
        from tests.dashboard.helpers import TOKEN

        TokenStore(db).add(TOKEN, "acme")
        server = start_server(env=FAST_DELIVERY)
        post(server, CallCenter(seed=23).user_event("user.connected.v2", 83))

        def state() -> str:
            with db.connection() as conn:
                return str(conn.scalar("SELECT state FROM deliveries"))

        assert eventually(lambda: state() == "dead", 15)
        sink.default = Answer(200)
        sign_in(page, server, "/deliveries")
        row = page.locator("#deliveries tbody tr[data-delivery]")
        assert row.count() == 1 and "dead" in row.inner_text() and "500" in row.inner_text()
        page.click("#deliveries button.retry")
        page.wait_for_selector("p.notice")
        assert "will be sent again now" in page.locator("p.notice").inner_text()
        assert eventually(lambda: state() == "succeeded", 15)
        assert [r.status for r in sink.snapshot()] == [500, 200]
        page.goto(server.url + "/deliveries?state=all")
        assert "succeeded" in page.locator("#deliveries tbody tr").inner_text()
        assert page.locator("#deliveries button.retry").count() == 0
    finally:
        sink.close()


def test_sign_out_everywhere_signs_the_other_browser_out(page: Any, browser: Any, dash: Server) -> None:
    other = browser.new_context().new_page()
    other.set_default_timeout(5000)
    try:
        sign_in(other, dash, "/aircall/calls")
        sign_in(page, dash, "/operations")
        assert page.locator("#sessions-active").inner_text() == "2"
        page.click("text=Sign out everywhere")
        page.wait_for_url(dash.url + "/login")
        page.goto(dash.url + "/operations")
        assert "/login" in page.url  # this browser is signed out...
        other.reload()
        assert other.url.startswith(dash.url + "/login")  # ...and so is the other one
    finally:
        other.context.close()


def test_a_live_page_goes_to_sign_in_when_its_session_is_signed_out(page: Any, browser: Any, dash: Server) -> None:
    """The live stream ends with `signed_out` once the session is revoked; the page then leaves for
    the sign-in page by itself, instead of showing stale data."""
    other = browser.new_context().new_page()
    other.set_default_timeout(5000)
    try:
        sign_in(other, dash, "/aircall/live")
        other.locator("body[data-live-connected='1']").wait_for(state="attached")
        sign_in(page, dash, "/operations")
        page.click("text=Sign out everywhere")
        page.wait_for_url(dash.url + "/login")
        other.wait_for_url(dash.url + "/login?next=%2Faircall%2Flive")
        assert other.locator("input[name=token]").is_visible()
    finally:
        other.context.close()
