"""The addresses of an Aircall OAuth install (kept light: the CLI imports this without aiohttp)."""

from __future__ import annotations

PROVIDER = "aircall"
DEFAULT_AUTHORIZE_URL = "https://dashboard.aircall.io/oauth/authorize"
INSTALL_PATH = "/aircall/oauth/install"
CALLBACK_PATH = "/aircall/oauth/callback"


def install_uri(public_url: str | None) -> str | None:
    """Where Aircall sends an admin who installs the app (the app's install_uri)."""
    return public_url.rstrip("/") + INSTALL_PATH if public_url else None


def redirect_uri(public_url: str | None) -> str | None:
    """Where Aircall sends the admin back with a code (the app's redirect_uri)."""
    return public_url.rstrip("/") + CALLBACK_PATH if public_url else None
