"""Hints of secrets that are safe to print."""

from __future__ import annotations


def mask(secret: str) -> str:
    """The first and last 4 characters of a long secret, nothing of a short one."""
    return f"{secret[:4]}…{secret[-4:]}" if len(secret) >= 16 else "…"
