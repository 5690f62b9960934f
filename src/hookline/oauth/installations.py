"""Installations: which accounts came from an OAuth install, and whether they are installed now.

Functions take the caller's connection so a provider writes its account, its webhook token and the
installation in one transaction (an install never lands half-made)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hookline.store.engine import Connection
from hookline.store.queries import compose, load_queries

Q = load_queries(__package__)

_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Installation:
    provider: str
    account: str
    external_id: str
    integration_id: str | None
    installed: bool
    installed_at: float
    uninstalled_at: float | None
    uninstall_reason: str | None


def _row(row: tuple[Any, ...]) -> Installation:
    p, a, e, i, inst, at, un, why = row
    return Installation(str(p), str(a), str(e), None if i is None else str(i), bool(inst), float(at),
                        None if un is None else float(un), None if why is None else str(why))


def by_external_id(conn: Connection, provider: str, external_id: str) -> Installation | None:
    row = conn.fetchone(Q.installation_by_external_id, (provider, external_id))
    return None if row is None else _row(row)


def get(conn: Connection, provider: str, account: str) -> Installation | None:
    row = conn.fetchone(Q.installation_of_account, (provider, account))
    return None if row is None else _row(row)


def account_name_for(label: str, fallback: str) -> str:
    """A valid account name from the installer's label (letters, digits, '-'), else the fallback."""
    slug = _SLUG.sub("-", label.lower()).strip("-")[:48]
    return slug if slug and slug[0].isalnum() else fallback[:64]


def account_for(conn: Connection, provider: str, external_id: str, name: str,
                taken: Callable[[str], bool]) -> tuple[str, bool]:
    """The account an install writes to: a re-install's own (found by the provider's id for the
    company, organization...), else `name` made unique with -2, -3... (account, created)."""
    found = by_external_id(conn, provider, external_id)
    if found is not None:
        return found.account, False
    candidate, n = name, 1
    while taken(candidate):
        n += 1
        candidate = f"{name}-{n}"
    return candidate, True


def record_install(
    conn: Connection,
    provider: str,
    account: str,
    external_id: str,
    integration_id: str | None,
    *,
    sealed_refresh_token: str | None = None,
    expires_at: float | None = None,
) -> None:
    """Installed now (a re-install clears the uninstall)."""
    conn.execute(
        Q.record_install,
        (provider, account, external_id, integration_id, time.time(), sealed_refresh_token, expires_at),
    )


def mark_uninstalled(
    conn: Connection,
    provider: str,
    account: str,
    reason: str,
    *,
    integration_id: str | None = None,
    token_read_at: float | None = None,
) -> bool:
    """Uninstalled (its data stays). Only the current install: with integration_id, when it names
    it (a late event about an earlier install); with token_read_at, when the refused token was read
    after the current install (the previous install's token is refused once a re-install replaced it)."""
    parts = [Q.mark_uninstalled_fragment]
    params: tuple[object, ...] = (time.time(), reason, provider, account)
    if integration_id is not None:
        parts.append(Q.of_integration_clause)
        params += (integration_id,)
    if token_read_at is not None:
        parts.append(Q.installed_before_clause)
        params += (token_read_at,)
    return bool(conn.execute(compose(*parts), params).rowcount)
