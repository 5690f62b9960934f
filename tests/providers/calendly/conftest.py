from __future__ import annotations

from collections.abc import Iterator

import pytest

from hookline.testing.calendly.fake_api import FakeCalendly
from tests.providers.fake_server import RunningApp


@pytest.fixture
def fake_calendly() -> Iterator[tuple[FakeCalendly, RunningApp]]:
    fake = FakeCalendly()
    running = RunningApp(fake.app()).start()
    fake.base_url = running.url
    try:
        yield fake, running
    finally:
        running.stop()
