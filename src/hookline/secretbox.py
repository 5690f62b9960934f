"""Secrets hookline must keep usable (e.g. a provider's API token), encrypted at rest when it can.

With HOOKLINE_SECRET_KEY set, values are sealed with Fernet (AES-128-CBC + HMAC-SHA256) under a key
derived from it by HKDF, and stored as "fernet:<token>". Without a key they are stored as
"plain:<value>": still never printed, but readable by whoever reads the database.
"""

from __future__ import annotations

import base64

_INFO = b"hookline secret box v1"


class SecretBoxError(Exception):
    """A stored secret cannot be opened (no key, or the wrong one). The message holds no secret."""


def _fernet(key: str) -> object:
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    # Any passphrase works: HKDF stretches it to the 32 bytes Fernet wants.
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


class SecretBox:
    def __init__(self, key: str | None) -> None:
        self._key = key or None

    @property
    def encrypts(self) -> bool:
        return self._key is not None

    def seal(self, value: str) -> str:
        if self._key is None:
            return "plain:" + value
        box = _fernet(self._key)
        return "fernet:" + box.encrypt(value.encode()).decode("ascii")  # type: ignore[attr-defined]

    def open(self, stored: str) -> str:
        scheme, _, payload = stored.partition(":")
        if scheme == "plain":
            return payload
        if scheme != "fernet":
            raise SecretBoxError("unknown secret format")
        if self._key is None:
            raise SecretBoxError("this secret is encrypted: set HOOKLINE_SECRET_KEY to the key it was stored with")
        from cryptography.fernet import InvalidToken

        try:
            return bytes(_fernet(self._key).decrypt(payload.encode("ascii"))).decode()  # type: ignore[attr-defined]
        except InvalidToken:
            raise SecretBoxError("HOOKLINE_SECRET_KEY is not the key this secret was stored with") from None

    @staticmethod
    def is_encrypted(stored: str) -> bool:
        return stored.startswith("fernet:")

    def __repr__(self) -> str:
        return f"SecretBox(encrypts={self.encrypts})"
