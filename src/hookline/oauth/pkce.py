"""PKCE (RFC 7636) with S256: the install keeps a code_verifier, the authorize URL carries its
challenge, and the code exchange sends the verifier, so a stolen code is useless without it."""

from __future__ import annotations

import base64
import hashlib
import secrets


def new_verifier() -> str:
    """43-128 characters of [A-Za-z0-9-._~]: 64 base64url characters from 48 random bytes."""
    return secrets.token_urlsafe(48)


def challenge(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding (code_challenge_method=S256)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
