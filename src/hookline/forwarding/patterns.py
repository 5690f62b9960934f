"""Which events a destination wants: glob patterns on the event name, optionally provider-qualified.

'call.*' matches call.created from any provider; 'aircall:call.*' only Aircall's; '*' everything.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence

_ALLOWED = re.compile(r"^[A-Za-z0-9_.*?\[\]!-]+$")


def validate(pattern: str) -> str:
    """The pattern, stripped; ValueError with a clear message when it cannot be right."""
    text = pattern.strip()
    provider, sep, event = text.rpartition(":")
    if not text or (sep and (not provider or not event)):
        raise ValueError(f"empty event pattern in {pattern!r}: use e.g. 'call.*' or 'aircall:call.*'")
    for part in (provider, event) if sep else (event,):
        if not _ALLOWED.match(part):
            raise ValueError(f"invalid event pattern {pattern!r}: letters, digits, '_', '.', '-' and globs only")
    return text


class EventPatterns:
    """Compiled once; `matches(provider, event)` is two regex matches at most per pattern."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        compiled: list[tuple[re.Pattern[str] | None, re.Pattern[str]]] = []
        for p in self.patterns:
            provider, sep, event = p.rpartition(":")
            prov = re.compile(fnmatch.translate(provider)) if sep else None
            compiled.append((prov, re.compile(fnmatch.translate(event))))
        self._compiled = compiled

    def matches(self, provider: str, event: str) -> bool:
        return any((prov is None or prov.match(provider)) and ev.match(event) for prov, ev in self._compiled)
