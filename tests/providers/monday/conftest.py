from __future__ import annotations

from collections.abc import Iterator

import pytest

from hookline.testing.monday.fake_api import FakeMonday
from tests.providers.fake_server import RunningApp

SECRET = "monday-app-signing-secret-0123456789-0123456789-0123456789-abcdef"


@pytest.fixture
def fake_monday() -> Iterator[tuple[FakeMonday, RunningApp]]:
    fake = FakeMonday(signing_secret=SECRET)
    running = RunningApp(fake.app()).start()
    try:
        yield fake, running
    finally:
        running.stop()
