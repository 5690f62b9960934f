"""Times given by users: ISO 8601 date-times (or dates) and unix seconds, to unix seconds."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: str) -> float:
    """'2026-11-23T10:00:00Z', '2026-11-23', '1763892000' -> unix seconds; ValueError otherwise.

    Naive date-times are taken as UTC.
    """
    text = value.strip()
    if not text:
        raise ValueError("empty time")
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not a time: {value!r} (use ISO 8601, e.g. 2026-11-23T10:00:00Z, or unix seconds)") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
