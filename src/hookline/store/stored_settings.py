"""The settings table: small values hookline keeps for itself by key (the admin token's digest, versions,
how far retention purged). Not the user's configuration (config.py)."""

from __future__ import annotations

from hookline.store.engine import Connection
from hookline.store.queries import load_queries

Q = load_queries(__package__)


def get(conn: Connection, key: str) -> str | None:
    value = conn.scalar(Q.get_setting, (key,))
    return None if value is None else str(value)


def put(conn: Connection, key: str, value: str) -> None:
    """Set `key`, replacing any value it had."""
    conn.execute(Q.put_setting, (key, value))
