"""The Calendly Bookings and monday.com Board items pages over plain HTTP on a real server, both
engines: events posted signed to the real receivers and projected by serve's worker; sign-in, the
filters, a booking's answers and reschedule chain, an item's column values, escaping of payload
text, pagination."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from hookline.store.engine import Database
from hookline.web.dashboard.ui import when
from tests.dashboard.bookings_items import (
    add_accounts,
    calendly_fake,
    monday_fake,
    post_calendly,
    post_monday,
    unsigned_refused,
)
from tests.dashboard.helpers import XSS, processed, signed_in
from tests.support import Server

ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
BOARD = "1234567890"  # FakeMonday's default board


@pytest.fixture
def pages(db: Database, start_server: Callable[..., Server]) -> Server:
    add_accounts(db)
    return start_server()


def rows(html: str, table: str, attr: str) -> list[str]:
    """The data-<attr> of each row of the table with that id, in order."""
    start = html.index(f'id="{table}"')
    body = html[start : html.index("</table>", start)]
    return re.findall(rf'data-{attr}="([^"]*)"', body)


def more_link(html: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" id="more">', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_pages_need_a_session_and_are_in_the_nav(pages: Server) -> None:
    with pages.client() as anon:
        for path in ("/calendly/bookings", "/calendly/bookings/ABC", "/monday/items", "/monday/items/1"):
            r = anon.get(path)
            assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}", path
    unsigned_refused(pages)
    with signed_in(pages) as c:
        page = c.get("/calendly/bookings")
        assert page.status_code == 200
        assert '<a href="/calendly/bookings" class="current">Bookings</a>' in page.text
        assert '<a href="/monday/items">Board items</a>' in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "No Calendly account" not in page.text  # two are registered
        assert "No bookings match." in page.text
        items = c.get("/monday/items")
        assert items.status_code == 200 and "No items match." in items.text
        assert '<a href="/monday/items" class="current">Board items</a>' in items.text
        # PostgreSQL text cannot hold NUL: refused before any query, on both engines alike.
        for path in ("/calendly/bookings?account=%00", "/calendly/bookings/a%00b", "/monday/items?board=%00",
                     "/monday/items/1%00", "/aircall/calls?account=%00"):
            r = c.get(path)
            assert r.status_code == 400 and r.json()["error"] == "invalid_query", path


def test_without_accounts_the_nav_hides_the_pages_and_they_say_how_to_add_one(dash: Server, db: Database) -> None:
    with signed_in(dash) as c:
        ops = c.get("/operations").text
        assert 'href="/aircall/calls"' in ops  # the rest of the nav is there
        assert 'href="/calendly/bookings"' not in ops and 'href="/monday/items"' not in ops
        bookings = c.get("/calendly/bookings")  # still reachable by its address
        assert bookings.status_code == 200
        assert "No Calendly account: hookline calendly account add." in bookings.text
        assert "No monday.com account: hookline monday account add." in c.get("/monday/items").text
        add_accounts(db)
        ops = c.get("/operations").text  # asked on each page view: no restart needed
        assert '<a href="/calendly/bookings">Bookings</a>' in ops and '<a href="/monday/items">Board items</a>' in ops
        assert "No Calendly account" not in c.get("/calendly/bookings").text


def test_bookings_filters_answers_reschedule_chain_and_escaping(pages: Server) -> None:
    fake = calendly_fake()
    now = time.time()
    ann = fake.add_booking("Ann", "ann@example.com", start=now + 86400, created_at=now - 90,
                           tracking={"utm_source": "ads", "utm_medium": "cpc", "utm_campaign": "q4"})
    bob = fake.add_booking("Bob", "bob@example.com", start=now + 2 * 86400, created_at=now - 80)
    bob_gone, moved = fake.reschedule(bob["uri"], now + 3 * 86400, at=now - 70)
    moved_gone, moved_again = fake.reschedule(moved["uri"], now + 4 * 86400, at=now - 60)
    cy = fake.add_booking("Cy", "cy@example.com", start=now + 5 * 86400, created_at=now - 50)
    cy_gone = fake.cancel(cy["uri"], reason="Out of office", at=now - 40)
    evil = fake.add_booking(XSS, "mallory@example.com", start=now + 6 * 86400, created_at=now - 30,
                            tracking={"utm_source": XSS},
                            questions=[{"question": "Why?", "answer": XSS, "position": 0},
                                       {"question": "Company?", "answer": "Initech", "position": 1}])
    evil_no_show = fake.mark_no_show(evil["uri"], at=now - 20)
    with pages.client() as c:
        post_calendly(c, "sales", "invitee.created", ann)
        for payload in (bob, moved, moved_again):
            post_calendly(c, "sales", "invitee.created", payload)
        post_calendly(c, "sales", "invitee.canceled", bob_gone)
        post_calendly(c, "sales", "invitee.canceled", moved_gone)
        post_calendly(c, "support", "invitee.created", cy)
        post_calendly(c, "support", "invitee.canceled", cy_gone)
        post_calendly(c, "support", "invitee.created", evil)
        post_calendly(c, "support", "invitee_no_show.created", evil_no_show)
    processed(pages)
    uid = {name: p["uri"].rsplit("/", 1)[-1] for name, p in
           (("ann", ann), ("bob", bob), ("moved", moved), ("again", moved_again), ("cy", cy), ("evil", evil))}

    with signed_in(pages) as c:
        page = c.get("/calendly/bookings").text
        # Latest start first, every account.
        assert rows(page, "bookings", "booking") == [uid[k] for k in ("evil", "cy", "again", "moved", "bob", "ann")]
        assert XSS not in page and ESCAPED in page  # the invitee name and the UTM source, as text
        ann_row = page[page.index(f'data-booking="{uid["ann"]}"'):]
        ann_row = ann_row[: ann_row.index("</tr>")]
        assert "ann@example.com" in ann_row and "30 Minute Meeting" in ann_row
        assert "source: ads" in ann_row and "medium: cpc" in ann_row and "campaign: q4" in ann_row
        moved_row = page[page.index(f'data-booking="{uid["moved"]}"'):]
        moved_row = moved_row[: moved_row.index("</tr>")]
        assert f'href="/calendly/bookings/{uid["bob"]}?account=sales">from earlier' in moved_row
        assert f'href="/calendly/bookings/{uid["again"]}?account=sales">moved to new' in moved_row
        assert "state-canceled" in moved_row
        evil_row = page[page.index(f'data-booking="{uid["evil"]}"'):]
        assert "no-show" in evil_row[: evil_row.index("</tr>")]

        def shown(**params: str) -> list[str]:
            r = c.get("/calendly/bookings", params=params)
            assert r.status_code == 200, r.text
            return rows(r.text, "bookings", "booking")

        assert shown(account="support") == [uid["evil"], uid["cy"]]
        assert shown(status="canceled") == [uid["cy"], uid["moved"], uid["bob"]]
        assert shown(status="active", account="sales") == [uid["again"], uid["ann"]]
        assert shown(until=str(now + 1.5 * 86400)) == [uid["ann"]]
        assert shown(since=str(now + 3.5 * 86400), until=str(now + 5.5 * 86400)) == [uid["cy"], uid["again"]]
        assert shown(account="", status="", since="", until="") == shown()  # the form's empty fields mean any
        assert shown(account="nobody") == []
        bad = c.get("/calendly/bookings", params={"since": "yesterday"})
        assert bad.status_code == 400 and 'class="problem">since:' in bad.text and "No bookings match." in bad.text
        assert 'value="yesterday"' in bad.text  # the form keeps what was typed

        # A booking in the middle of a chain of reschedules.
        one = c.get(f"/calendly/bookings/{uid['moved']}", params={"account": "sales"})
        assert one.status_code == 200
        assert rows(one.text, "chain", "booking") == [uid["bob"], uid["moved"], uid["again"]]
        chain = one.text[one.text.index('id="chain"'):]
        assert f'<a href="/calendly/bookings/{uid["bob"]}?account=sales">' in chain
        assert f'<a href="/calendly/bookings/{uid["again"]}?account=sales">' in chain and "this booking" in chain
        assert "Rescheduled" in one.text  # the cancel reason of the moved booking
        last = c.get(f"/calendly/bookings/{uid['again']}").text  # no ?account=: the only one holding it
        assert rows(last, "chain", "booking") == [uid["bob"], uid["moved"], uid["again"]]
        assert "Not rescheduled." in c.get(f"/calendly/bookings/{uid['ann']}").text

        hostile = c.get(f"/calendly/bookings/{uid['evil']}", params={"account": "support"})
        assert hostile.status_code == 200 and XSS not in hostile.text
        assert hostile.text.count(ESCAPED) >= 4  # title, heading, invitee, answer, UTM
        answers = hostile.text[hostile.text.index('id="answers"'):]
        assert answers.index("Why?") < answers.index(ESCAPED) < answers.index("Company?") < answers.index("Initech")
        assert "No-show</dt><dd>yes" in hostile.text

        assert c.get(f"/calendly/bookings/{uid['evil']}", params={"account": "sales"}).status_code == 404
        missing = c.get("/calendly/bookings/NOPE")
        assert missing.status_code == 404 and "No booking &#39;NOPE&#39;." in missing.text
        probe = c.get("/calendly/bookings/" + "%3Cb%3Ex")
        assert probe.status_code == 404 and "<b>x" not in probe.text


def test_board_items_filters_column_values_and_escaping(pages: Server) -> None:
    fake = monday_fake()
    t = int(time.time()) - 300  # whole seconds: the page shows seconds
    with pages.client() as c:
        post_monday(c, "boards", fake.event("create_pulse", at=t, pulseId=501, pulseName="Write spec",
                                            groupId="topics"))
        post_monday(c, "boards", fake.event("update_column_value", at=t + 1, pulseId=501, columnId="status",
                                            columnType="color", columnTitle="Status", groupId="topics",
                                            value={"label": {"text": "Done"}}))
        post_monday(c, "boards", fake.event("create_pulse", at=t + 2, pulseId=502, pulseName=XSS, groupId="new_group"))
        post_monday(c, "boards", fake.event("update_column_value", at=t + 3, pulseId=502, columnId="text0",
                                            columnType="text", columnTitle=XSS, groupId="new_group",
                                            value={"value": XSS}))
        post_monday(c, "boards", fake.event("create_pulse", board_id="999", at=t + 4, pulseId=503,
                                            pulseName="Old idea", groupId="topics"))
        post_monday(c, "boards", fake.event("archive_pulse", board_id="999", at=t + 5, pulseId=503))
        post_monday(c, "ops", fake.event("create_pulse", at=t + 6, pulseId=601, pulseName="Ops task", groupId="g"))
        post_monday(c, "ops", fake.event("delete_pulse", at=t + 7, pulseId=601))
    processed(pages)

    with signed_in(pages) as c:
        page = c.get("/monday/items").text
        assert rows(page, "items", "item") == ["601", "503", "502", "501"]  # latest update first
        assert XSS not in page and ESCAPED in page
        row = page[page.index('data-item="503"'):]
        row = row[: row.index("</tr>")]
        assert "Old idea" in row and "<td>999</td>" in row and "<td>topics</td>" in row and "state-archived" in row
        assert 'href="/monday/items/503?account=boards"' in row

        def shown(**params: str) -> list[str]:
            r = c.get("/monday/items", params=params)
            assert r.status_code == 200, r.text
            return rows(r.text, "items", "item")

        assert shown(account="ops") == ["601"]
        assert shown(board="999") == ["503"]
        assert shown(group="new_group") == ["502"]
        assert shown(state="archived") == ["503"]
        assert shown(state="active", account="boards", board=BOARD, group="topics") == ["501"]
        assert shown(account="", board="", group="", state="") == shown()
        bad = c.get("/monday/items", params={"cursor": "-1"})
        assert bad.status_code == 400 and "cursor must be between" in bad.text

        item = c.get("/monday/items/501", params={"account": "boards"})
        assert item.status_code == 200
        columns = item.text[item.text.index('id="columns"'):]
        status = columns[columns.index('data-column="status"'):]
        status = status[: status.index("</tr>")]
        assert "<td>Status</td><td>color</td>" in status
        assert "&#34;text&#34;: &#34;Done&#34;" in status  # the value as monday sent it (JSON), escaped
        assert status.endswith(f"<td>{when(t + 1)}</td>")  # changed_at
        assert f'href="/monday/items?account=boards&amp;board={BOARD}"' in item.text

        hostile = c.get("/monday/items/502").text
        assert XSS not in hostile and hostile.count(ESCAPED) >= 4  # title, heading, column title, value
        assert "No column values received." in c.get("/monday/items/503").text
        assert c.get("/monday/items/601", params={"account": "boards"}).status_code == 404
        assert "state-deleted" in c.get("/monday/items/601", params={"account": "ops"}).text
        assert c.get("/monday/items/77777").status_code == 404


def test_pagination_keeps_the_filters(pages: Server) -> None:
    fake_c, fake_m = calendly_fake(), monday_fake()
    now = time.time()
    with pages.client() as c:
        for n in range(51):
            post_calendly(c, "sales", "invitee.created",
                          fake_c.add_booking(f"Guest {n}", f"g{n}@example.com", start=now + 3600 * (n + 1),
                                             created_at=now - 100))
            post_monday(c, "boards", fake_m.event("create_pulse", at=now - 200 + n, pulseId=7000 + n,
                                                  pulseName=f"Item {n}", groupId="topics"))
        post_calendly(c, "support", "invitee.created", fake_c.add_booking("Other", start=now + 3600, created_at=now))
    processed(pages)
    with signed_in(pages) as c:
        for path, table, attr, params, key in (
            ("/calendly/bookings", "bookings", "booking", {"account": "sales", "status": "active"}, None),
            ("/monday/items", "items", "item", {"account": "boards", "state": "active"}, "7000"),
        ):
            first = c.get(path, params=params).text
            page1 = rows(first, table, attr)
            assert len(page1) == 50
            link = more_link(first)
            assert link is not None and link.startswith(path + "?") and "cursor=50" in link
            assert "account=" + params["account"] in link and "=active" in link
            second = c.get(link).text
            page2 = rows(second, table, attr)
            assert len(page2) == 1 and not set(page1) & set(page2)
            assert more_link(second) is None
            if key:
                assert page2 == [key]  # the oldest update comes last
