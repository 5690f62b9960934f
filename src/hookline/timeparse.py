"""Times given by users and providers: ISO 8601 date-times (or dates) and unix seconds, to unix seconds.

Every time hookline takes in must be *plausible*: a finite number of unix seconds from 1970-01-01
up to (not including) 2**32 s, 2106-02-07, the end of 32-bit unsigned unix time. Anything else
(1e20, 2**200, -1e308, "inf", "nan", milliseconds sent where seconds are expected) is refused at
the edge or treated as absent by the projections, so that no stored value can fail a page, win a
version comparison forever or reach SQL as NaN (docs/pipeline.md, "Numbers in range").
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

EARLIEST = 0.0  # 1970-01-01T00:00:00Z
LATEST = float(2**32)  # 2106-02-07T06:28:16Z, excluded
RANGE_TEXT = "1970-01-01 .. 2106-02-07"


def plausible(value: object) -> float | None:
    """`value` as unix seconds when it is a finite number within [EARLIEST, LATEST); None otherwise
    (booleans, huge integers, NaN, infinities, strings)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an int beyond any float
        return None
    return seconds if math.isfinite(seconds) and EARLIEST <= seconds < LATEST else None


def parse_time(value: str) -> float:
    """'2026-11-23T10:00:00Z', '2026-11-23', '1763892000' -> unix seconds; ValueError otherwise.

    Naive date-times are taken as UTC. Non-finite ('nan', 'inf') and out-of-range times
    (see `plausible`) are refused with a ValueError that says so.
    """
    text = value.strip()
    if not text:
        raise ValueError("empty time")
    try:
        seconds = float(text)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError as exc:
            raise ValueError(
                f"not a time: {value!r} (use ISO 8601, e.g. 2026-11-23T10:00:00Z, or unix seconds)"
            ) from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        try:
            seconds = parsed.timestamp()
        except (OverflowError, ValueError, OSError) as exc:  # e.g. 0001-01-01 minus an offset
            raise ValueError(f"time out of range: {value!r} (must be within {RANGE_TEXT})") from exc
    if plausible(seconds) is None:
        raise ValueError(f"time out of range: {value!r} (must be within {RANGE_TEXT}, in unix seconds)")
    return seconds


def optional_time(value: object) -> float | None:
    """A provider's time field as unix seconds, or None when absent or not a plausible time:
    a number (seconds) or a string parse_time accepts."""
    if isinstance(value, str):
        try:
            return parse_time(value)
        except ValueError:
            return None
    return plausible(value)


def iso(ts: float | None) -> str | None:
    """Unix seconds as ISO 8601 UTC; None for None and for what no date can show (NaN, infinities,
    years beyond 9999): a value stored by an older version must never fail an answer."""
    if ts is None:
        return None
    try:
        return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, ValueError, OSError, TypeError):
        return None
