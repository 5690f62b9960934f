"""Destination secrets (`whsec_<base64>`) and Standard Webhooks signatures."""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

PREFIX = "whsec_"
MIN_BYTES, MAX_BYTES = 24, 64  # what the Standard Webhooks spec recommends


def generate_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def validate_secret(secret: str) -> str:
    """The secret when it is `whsec_` + base64 of 24-64 random bytes; ValueError otherwise (naming no secret)."""
    text = secret.strip()
    if not text.startswith(PREFIX):
        raise ValueError("the secret must look like whsec_<base64>")
    try:
        raw = base64.b64decode(text[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the secret after whsec_ is not valid base64") from exc
    if not MIN_BYTES <= len(raw) <= MAX_BYTES:
        raise ValueError(f"the secret must hold {MIN_BYTES} to {MAX_BYTES} bytes (it holds {len(raw)})")
    return text


def mask(secret: str) -> str:
    """Safe to show: the prefix and the last 4 characters."""
    return f"{PREFIX}…{secret[-4:]}" if len(secret) > len(PREFIX) + 8 else f"{PREFIX}…"


def new_webhook_id() -> str:
    """A unique Standard Webhooks message id."""
    return "msg_" + secrets.token_hex(12)


class Signer:
    """Signs payloads for one destination; the secret is decoded once."""

    def __init__(self, secret: str) -> None:
        self._webhook = Webhook(secret)

    def headers(self, webhook_id: str, payload: bytes, now: float) -> dict[str, str]:
        stamp = datetime.fromtimestamp(int(now), UTC)
        signature = self._webhook.sign(webhook_id, stamp, payload.decode())
        return {"webhook-id": webhook_id, "webhook-timestamp": str(int(now)), "webhook-signature": signature}
