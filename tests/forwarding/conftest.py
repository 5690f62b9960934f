"""Forwarding fixtures: a real destination (tests/sink.py) and fast retry settings for the server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sink import Sink

# Retries in milliseconds instead of minutes, so the suite stays fast.
FAST = {
    "HOOKLINE_DELIVERY_BACKOFF_BASE_SECONDS": "0.05",
    "HOOKLINE_DELIVERY_BACKOFF_MAX_SECONDS": "0.2",
    "HOOKLINE_DELIVERY_TIMEOUT_SECONDS": "2",
    "HOOKLINE_DELIVERY_POLL_SECONDS": "0.2",
}


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink().start()
    try:
        yield s
    finally:
        s.close()
