"""Dashboard fixtures: the Aircall token registered, a server, one Chromium per module."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.dashboard.helpers import TOKEN
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
