"""Query-string parameters for the admin API: parsed or refused with a clear message (-> 400)."""

from __future__ import annotations

from collections.abc import Mapping

from hookline.timeparse import parse_time

MAX_ID = 2**62  # ids and id cursors above this never reach the database (BIGINT and SQLite integers stop at 2**63)
MAX_OFFSET = 10**9  # offset cursors (listings ordered by something other than an id)


class BadQuery(ValueError):
    """A query parameter that cannot be used; the message names it."""


def id_param(raw: str, what: str) -> int:
    """A row id from a URL path: ASCII digits, 1..MAX_ID (int() alone takes '²', '+1' and 10**30)."""
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:
        raise BadQuery(f"{what} id must be an integer between 1 and {MAX_ID}")
    return int(raw)


def int_param(q: Mapping[str, str], name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadQuery(f"{name} must be an integer") from exc
    if not lo <= value <= hi:
        raise BadQuery(f"{name} must be between {lo} and {hi}")
    return value


def bool_param(q: Mapping[str, str], name: str) -> bool | None:
    raw = q.get(name)
    if raw is None or raw == "":
        return None
    value = raw.strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise BadQuery(f"{name} must be true or false")


def time_param(q: Mapping[str, str], name: str) -> float | None:
    raw = q.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_time(raw)
    except ValueError as exc:
        raise BadQuery(f"{name}: {exc}") from exc


def choice_param(q: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str | None:
    raw = q.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise BadQuery(f"{name} must be one of {', '.join(choices)}")
    return raw


def str_param(q: Mapping[str, str], name: str) -> str | None:
    raw = q.get(name)
    return raw if raw else None
