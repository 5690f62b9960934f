"""Credentials as every provider keeps them: hints safe to print, the SecretBox that seals them, and
the hot-path cache that finds which account a request's credential belongs to."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TypeVar

from hookline.config import Settings
from hookline.secretbox import SecretBox
from hookline.store.engine import Database

R = TypeVar("R")

# On a miss the cache reloads at once (a credential added a moment ago works), but at most this
# often, so that a flood of unknown credentials does not become a flood of reads.
MISS_RELOAD_SECONDS = 0.25


def mask(secret: str) -> str:
    """A hint safe to show: the first and last 4 characters of a long secret, nothing of a short one."""
    return f"{secret[:4]}…{secret[-4:]}" if len(secret) >= 16 else "…"


def box_for(settings: Settings) -> SecretBox:
    """The SecretBox of HOOKLINE_SECRET_KEY (no key: secrets are stored unencrypted, never shown)."""
    return SecretBox(settings.secret_key.get_secret_value() if settings.secret_key is not None else None)


class ReloadingCache(ABC):
    """Credentials in memory for the hot path, reloaded at most every `ttl` seconds, and on a miss at
    most every MISS_RELOAD_SECONDS. A credential added from the CLI while `serve` runs is accepted
    at once; a removed one is refused within `ttl`.

    A subclass reads the database in `_load` and looks itself up through `_find`.
    """

    def __init__(self, db: Database, ttl: float) -> None:
        self.db = db
        self.ttl = ttl
        self._loaded_at = float("-inf")

    @abstractmethod
    def _load(self) -> None:
        """Read the credentials from the database into the subclass's lookup."""

    def expire(self) -> None:
        """Reload at the next request (an install or uninstall just changed what is accepted)."""
        self._loaded_at = float("-inf")

    def reload(self) -> None:
        self._load()
        self._loaded_at = time.monotonic()

    def _find(self, look: Callable[[], R | None]) -> R | None:
        """`look()` on a fresh enough cache; None after a second look on a reloaded one."""
        if time.monotonic() - self._loaded_at > self.ttl:
            self.reload()
        found = look()
        if found is None and time.monotonic() - self._loaded_at > MISS_RELOAD_SECONDS:
            self.reload()
            found = look()
        return found
