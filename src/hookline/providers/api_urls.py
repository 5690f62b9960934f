"""API base URLs of provider accounts: checked when given, chosen per account when used.

An account's URL is stored with it (`account add --api-url`, or the provider's HOOKLINE_*_API_URL
setting recorded when the account was added), so what one terminal exports never changes what
another process calls. Accounts stored before the URL was (NULL) keep following the setting.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def check_api_url(url: str) -> str:
    """The URL, stripped; ValueError (a message for people) when it is not a plain http(s) URL."""
    url = url.strip()
    wrong = ValueError(f"invalid API URL {url!r}: give http(s)://host[:port][/path]")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number or out of range
    except ValueError:
        raise wrong from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise wrong
    if parts.username is not None or parts.password is not None:
        # A URL is shown in listings and messages: credentials belong in the account's token.
        raise ValueError("the API URL must not carry credentials (user:password@)")
    if parts.query or parts.fragment:
        raise ValueError(f"invalid API URL {url!r}: no query or fragment")
    return url


def chosen(stored: str | None, setting: str) -> str:
    """The URL an account's API calls go to: its own, else (accounts added before URLs were stored)
    the setting of the process."""
    return stored or setting


def with_url(message: str, base_url: str) -> str:
    """A network error's message naming the base URL that was tried (URLs hold no secret: see
    check_api_url)."""
    return message if base_url in message else f"{message} (API at {base_url})"


def for_add(given: str | None, existing: str | None, exists: bool, setting: str) -> tuple[str, str | None]:
    """What `account add` does with the URL: (the URL it calls, the URL it stores; None keeps an
    existing account's). A new account records the setting of the day; ValueError for a bad URL."""
    if given is not None:
        url = check_api_url(given)
        return url, url
    if exists:
        return chosen(existing, setting), None
    return setting, setting
