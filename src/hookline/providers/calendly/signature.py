"""The Calendly-Webhook-Signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>`."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "calendly-webhook-signature"


def compute(key: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def header_value(key: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={compute(key, timestamp, body)}"


def parse(value: str) -> tuple[int, list[str]]:
    """(timestamp, v1 signatures); ValueError when the header is not of that form."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        name, sep, item = part.strip().partition("=")
        if not sep:
            raise ValueError("signature parts are name=value")
        if name == "t":
            if not item.isdigit() or len(item) > 12:
                raise ValueError("t must be unix seconds")
            timestamp = int(item)
        elif name == "v1" and item:
            signatures.append(item.lower())
    if timestamp is None or not signatures:
        raise ValueError("need t= and v1=")
    return timestamp, signatures


def matches(key: str, timestamp: int, body: bytes, signatures: list[str]) -> bool:
    expected = compute(key, timestamp, body)
    # Check every candidate (no early exit on the first mismatch): constant time per candidate.
    found = False
    for candidate in signatures:
        found |= hmac.compare_digest(expected, candidate)
    return found
