"""The Calendly Bookings and monday.com Board items pages in a real browser (Debian's Chromium through
Playwright), on both engines: sign in, open the list, filter it with its form, follow a row to its
page; a hostile invitee name, answer, item name and column value render as text. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hookline.store.engine import Database
from tests.dashboard.bookings_items import add_accounts, calendly_fake, monday_fake, post_calendly, post_monday
from tests.dashboard.helpers import XSS, artifact, processed, sign_in
from tests.support import Server


def test_bookings_filter_and_a_booking_with_its_chain(
    page: Any, db: Database, start_server: Callable[..., Server], engine: str
) -> None:
    add_accounts(db)
    server = start_server()
    fake = calendly_fake()
    now = time.time()
    ann = fake.add_booking(XSS, "ann@example.com", start=now + 86400, created_at=now - 60,
                           questions=[{"question": "Topic?", "answer": XSS, "position": 0}])
    bob = fake.add_booking("Bob", "bob@example.com", start=now + 2 * 86400, created_at=now - 50)
    bob_gone, moved = fake.reschedule(bob["uri"], now + 3 * 86400, at=now - 40)
    with server.client() as c:
        for payload in (ann, bob, moved):
            post_calendly(c, "sales", "invitee.created", payload)
        post_calendly(c, "sales", "invitee.canceled", bob_gone)
    processed(server)
    ids = {name: p["uri"].rsplit("/", 1)[-1] for name, p in (("ann", ann), ("bob", bob), ("moved", moved))}

    sign_in(page, server, "/calendly/bookings")

    def shown() -> list[str]:
        return [r.get_attribute("data-booking") for r in page.locator("#bookings tbody tr[data-booking]").all()]

    assert shown() == [ids["moved"], ids["bob"], ids["ann"]]
    assert page.locator(f'#bookings tr[data-booking="{ids["ann"]}"] td.invitee a').inner_text() == XSS
    assert page.locator("#bookings img").count() == 0  # text, never an element
    page.select_option("select[name=status]", "canceled")
    page.click("#booking-filters button[type=submit]")
    page.wait_for_url("**status=canceled**")
    assert shown() == [ids["bob"]]
    page.screenshot(path=str(artifact(f"bookings-{engine}.png")))

    page.click(f'#bookings tr[data-booking="{ids["bob"]}"] td.invitee a')
    page.wait_for_url(f"**/calendly/bookings/{ids['bob']}?account=sales")
    assert page.locator("#invitee-name").inner_text() == "Bob"
    chain = [r.get_attribute("data-booking") for r in page.locator("#chain tbody tr").all()]
    assert chain == [ids["bob"], ids["moved"]]
    page.click(f'#chain tr[data-booking="{ids["moved"]}"] a')  # along the chain to the new booking
    page.wait_for_url(f"**/calendly/bookings/{ids['moved']}?account=sales")
    assert "active" in page.locator("#booking").inner_text()

    page.goto(server.url + f"/calendly/bookings/{ids['ann']}")
    assert page.locator("#invitee-name").inner_text() == XSS
    assert page.locator("#answers td.answer").inner_text() == XSS
    assert page.locator("main img").count() == 0
    assert page.dialogs == []


def test_board_items_filter_and_an_item_with_its_columns(
    page: Any, db: Database, start_server: Callable[..., Server], engine: str
) -> None:
    add_accounts(db)
    server = start_server()
    fake = monday_fake()
    t = time.time() - 120
    with server.client() as c:
        post_monday(c, "boards", fake.event("create_pulse", at=t, pulseId=801, pulseName=XSS, groupId="topics"))
        post_monday(c, "boards", fake.event("update_column_value", at=t + 1, pulseId=801, columnId="text0",
                                            columnType="text", columnTitle="Notes", groupId="topics", value=XSS))
        post_monday(c, "boards", fake.event("create_pulse", at=t + 2, pulseId=802, pulseName="Shelved",
                                            groupId="topics"))
        post_monday(c, "boards", fake.event("archive_pulse", at=t + 3, pulseId=802))
        post_monday(c, "ops", fake.event("create_pulse", at=t + 4, pulseId=901, pulseName="Ops task", groupId="g"))
    processed(server)

    sign_in(page, server, "/monday/items")

    def shown() -> list[str]:
        return [r.get_attribute("data-item") for r in page.locator("#items tbody tr[data-item]").all()]

    assert shown() == ["901", "802", "801"]
    assert page.locator('#items tr[data-item="801"] td.name a').inner_text() == XSS
    page.fill("input[name=account]", "boards")
    page.select_option("select[name=state]", "active")
    page.click("#item-filters button[type=submit]")
    page.wait_for_url("**state=active**")
    assert shown() == ["801"]
    page.screenshot(path=str(artifact(f"board-items-{engine}.png")))

    page.click('#items tr[data-item="801"] td.name a')
    page.wait_for_url("**/monday/items/801?account=boards")
    assert page.locator("#item-name").inner_text() == XSS
    cell = page.locator('#columns tr[data-column="text0"]')
    assert cell.locator("td").nth(0).inner_text() == "Notes" and cell.locator("td").nth(1).inner_text() == "text"
    assert cell.locator("td.value").inner_text() == XSS
    assert page.locator("main img").count() == 0
    assert page.dialogs == []
