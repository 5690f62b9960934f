"""Secrets hookline must keep usable (e.g. a provider's API token), encrypted at rest when it can.

HOOKLINE_SECRET_KEY holds one key or several, comma-separated: the first seals, every one opens (so
keys rotate: put the new key first, run `hookline secrets rotate`, then drop the old one). A key is
either a generated Fernet key (`hookline secrets new-key`; used as it is) or a passphrase, stretched
with scrypt under a random salt stored with the value. Stored forms:

- "fernet:<token>"              sealed with a generated key; or, before scrypt, with a passphrase
                                through HKDF (no stretching): those still open and are re-sealed by rotate
- "scrypt:<salt>:<token>"       sealed with a passphrase through scrypt (n=2**15, r=8, p=1)
- "plain:<value>"               no key was set: never printed, but readable by whoever reads the database

Fernet is AES-128-CBC + HMAC-SHA256; MultiFernet tries each key in turn.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

_LEGACY_INFO = b"hookline secret box v1"
# 32 MiB and a few tenths of a second per derivation: a guessed passphrase costs an attacker the same.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


class SecretBoxError(Exception):
    """A stored secret cannot be opened (no key, or the wrong one). The message holds no secret."""


def new_key() -> str:
    """A generated key for HOOKLINE_SECRET_KEY (256 random bits need no stretching)."""
    return Fernet.generate_key().decode("ascii")


def _is_fernet_key(text: str) -> bool:
    if len(text) != 44:
        return False
    try:
        return len(base64.urlsafe_b64decode(text.encode("ascii"))) == 32
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


@functools.lru_cache(maxsize=256)
def _scrypt(passphrase: str, salt: bytes) -> Fernet:
    """Cached per (passphrase, salt): a process derives each once, not at every open."""
    raw = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


@functools.lru_cache(maxsize=64)
def _legacy(passphrase: str) -> Fernet:
    """The derivation before scrypt (HKDF, no stretching): only to open values sealed with it."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LEGACY_INFO).derive(passphrase.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SecretBox:
    def __init__(self, key: str | None) -> None:
        self._whole = (key or "").strip()
        self._keys = [k.strip() for k in self._whole.split(",") if k.strip()]
        self._salt: bytes | None = None  # this box's scrypt salt, made at its first seal

    @property
    def encrypts(self) -> bool:
        return bool(self._keys)

    def seal(self, value: str) -> str:
        if not self._keys:
            return "plain:" + value
        first = self._keys[0]
        if _is_fernet_key(first):
            return "fernet:" + Fernet(first.encode("ascii")).encrypt(value.encode()).decode("ascii")
        if self._salt is None:
            self._salt = os.urandom(16)
        token = _scrypt(first, self._salt).encrypt(value.encode()).decode("ascii")
        return f"scrypt:{_b64(self._salt)}:{token}"

    def open(self, stored: str) -> str:
        scheme, _, payload = stored.partition(":")
        if scheme == "plain":
            return payload
        if scheme not in ("fernet", "scrypt"):
            raise SecretBoxError("unknown secret format")
        if not self._keys:
            raise SecretBoxError("this secret is encrypted: set HOOKLINE_SECRET_KEY to the key it was stored with")
        try:
            return self._openers(scheme, payload, current_only=False)
        except (InvalidToken, ValueError):
            raise SecretBoxError("HOOKLINE_SECRET_KEY is not the key this secret was stored with") from None

    def _openers(self, scheme: str, payload: str, *, current_only: bool) -> str:
        """Open with every key (or only the sealing one); raises InvalidToken when none fits."""
        keys = self._keys[:1] if current_only else self._keys
        if scheme == "scrypt":
            salt_text, _, token = payload.partition(":")
            salt = _unb64(salt_text)
            boxes = [_scrypt(k, salt) for k in keys if not _is_fernet_key(k)]
        else:
            token = payload
            boxes = [Fernet(k.encode("ascii")) for k in keys if _is_fernet_key(k)]
            if not current_only:
                # Sealed before scrypt: each passphrase through HKDF, the whole setting too (a passphrase
                # that held a comma was one key then).
                boxes += [_legacy(k) for k in dict.fromkeys([*self._keys, self._whole])]
        if not boxes:
            raise InvalidToken
        return bytes(MultiFernet(boxes).decrypt(token.encode("ascii"))).decode()

    def is_current(self, stored: str) -> bool:
        """Sealed with the first key, the way `seal` seals today (nothing for `rotate` to do)."""
        scheme, _, payload = stored.partition(":")
        if not self._keys:
            return scheme == "plain"
        if scheme not in ("fernet", "scrypt") or (scheme == "fernet") != _is_fernet_key(self._keys[0]):
            return False
        try:
            self._openers(scheme, payload, current_only=True)
        except (InvalidToken, ValueError):
            return False
        return True

    def reseal(self, stored: str) -> str | None:
        """The value sealed with the first key; None when it is already (raises SecretBoxError)."""
        if self.is_current(stored):
            return None
        return self.seal(self.open(stored))

    @staticmethod
    def is_encrypted(stored: str) -> bool:
        return stored.startswith(("fernet:", "scrypt:"))

    def __repr__(self) -> str:
        return f"SecretBox(encrypts={self.encrypts}, keys={len(self._keys)})"
