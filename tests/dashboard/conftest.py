"""Dashboard fixtures: the Aircall token registered, a server, one Chromium per module and a page of it
(any alert() recorded, a screenshot kept)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.dashboard.helpers import TOKEN, artifact
from tests.support import Server

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def dash(db: Database, start_server: Callable[..., Server]) -> Server:
    TokenStore(db).add(TOKEN, "acme")
    return start_server()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    pg = context.new_page()
    pg.dialogs = []  # any alert() would be an injected script running
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.set_default_timeout(5000)
    try:
        yield pg
    finally:
        pg.screenshot(path=str(artifact(f"{request.node.name}.png")), full_page=True)
        context.close()
