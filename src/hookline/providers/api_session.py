"""What the providers' small API clients share: `async with Client(...)` opens an aiohttp session of
its own unless one was given (a caller with many clients shares one), and closes only its own."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import aiohttp

# A refused or unreachable API is reported within seconds (the CLI user waits).
TIMEOUT = aiohttp.ClientTimeout(total=30, connect=5)


class SessionOwner:
    def __init__(self, session: aiohttp.ClientSession | None = None) -> None:
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> Self:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None
