"""Aircall webhook subscriptions as hookline sees them: which events to ask for, which URLs are
allowed, and which webhooks point at this hookline.

Aircall subscribes a webhook created or updated with no `events` to every event, including ones
added later that nothing here knows how to read, so hookline always sends an explicit list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hookline.providers.aircall.catalog import CATALOG
from hookline.providers.aircall.tokens import digest, mask

RECEIVER_PATH = "/aircall/webhook"


class WebhookInputError(Exception):
    """Bad input for a webhook (URL, event names), caught before Aircall is asked."""


def receiver_url(public_url: str | None) -> str | None:
    """The URL Aircall should call for this hookline, from HOOKLINE_PUBLIC_URL."""
    if not public_url:
        return None
    return public_url.rstrip("/") + RECEIVER_PATH


def check_url(url: str, *, allow_http: bool = False) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WebhookInputError(f"not a URL: {url!r} (expected https://host/aircall/webhook)")
    if parts.scheme == "http" and not allow_http:
        raise WebhookInputError(
            f"{url} is http: Aircall delivers to https URLs only (use --allow-http for a local test server)"
        )
    return url.strip()


def all_events() -> list[str]:
    """Every event in the catalog, by name."""
    return list(CATALOG)


def expand_events(given: Iterable[str] | None) -> tuple[list[str], list[str]]:
    """The explicit event list to send, and the names not in hookline's catalog (sent anyway: Aircall
    may know newer events; it answers with a clear error for names it does not know).

    Accepts repeated options and comma-separated lists; `call.*` means every catalog event of a family;
    nothing given means every catalog event.
    """
    names = [n.strip() for item in (given or []) for n in item.split(",") if n.strip()]
    if not names:
        return all_events(), []
    chosen: list[str] = []
    unknown: list[str] = []
    for name in names:
        if name.endswith(".*"):
            family = name[:-2]
            matches = [e for e, t in CATALOG.items() if t.family == family]
            if not matches:
                raise WebhookInputError(f"no catalog event matches {name!r}")
            chosen.extend(matches)
            continue
        if name not in CATALOG:
            unknown.append(name)
        chosen.append(name)
    return list(dict.fromkeys(chosen)), unknown


@dataclass(frozen=True)
class WebhookView:
    """A webhook as the CLI lists it: the token masked, and whether it delivers to this hookline."""

    webhook_id: str
    name: str | None
    url: str
    active: bool
    events: list[str]
    token_hint: str | None
    registered: bool  # its token is in our registry
    ours_by_url: bool  # its URL is HOOKLINE_PUBLIC_URL + /aircall/webhook
    created_at: str | None

    @property
    def ours(self) -> bool:
        return self.registered or self.ours_by_url

    def as_json(self) -> dict[str, Any]:
        return {
            "webhook_id": self.webhook_id,
            "name": self.name,
            "url": self.url,
            "active": self.active,
            "events": self.events,
            "events_count": len(self.events),
            "token": self.token_hint,
            "token_registered": self.registered,
            "points_here": self.ours,
            "created_at": self.created_at,
        }


def view(webhook: Mapping[str, Any], public_url: str | None, registered_digests: set[str]) -> WebhookView:
    token = webhook.get("token")
    token = token if isinstance(token, str) and token else None
    url = str(webhook.get("url") or "")
    here = receiver_url(public_url)
    events = webhook.get("events")
    return WebhookView(
        webhook_id=str(webhook.get("webhook_id") or webhook.get("id") or ""),
        name=webhook.get("custom_name"),
        url=url,
        active=bool(webhook.get("active")),
        events=[str(e) for e in events] if isinstance(events, list) else [],
        token_hint=mask(token) if token else None,
        registered=token is not None and digest(token) in registered_digests,
        ours_by_url=here is not None and url.rstrip("/") == here,
        created_at=webhook.get("created_at"),
    )
