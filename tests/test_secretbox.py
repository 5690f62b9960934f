"""The secret box: scrypt for passphrases, generated keys as they are, several keys (the first seals,
all open), values sealed by the old HKDF derivation still open, and `hookline secrets rotate` re-sealing
every provider's stored credentials on both engines."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hookline.providers.aircall.accounts import AccountStore as AircallAccounts
from hookline.providers.calendly.accounts import AccountStore as CalendlyAccounts
from hookline.providers.calendly.keys import KeyStore
from hookline.providers.monday.accounts import AccountStore as MondayAccounts
from hookline.secretbox import SecretBox, SecretBoxError, new_key
from hookline.store.engine import Database
from tests.support import run_cli

OLD = "correct horse battery staple 0123456789"
NEW = "a brand new passphrase, but with a comma".replace(",", "")  # a comma separates keys


def legacy_seal(passphrase: str, value: str) -> str:
    """What the secret box stored before scrypt (HKDF of the passphrase, no salt, no stretching)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hookline secret box v1").derive(
        passphrase.encode()
    )
    return "fernet:" + Fernet(base64.urlsafe_b64encode(raw)).encrypt(value.encode()).decode()


def test_a_passphrase_is_stretched_with_scrypt_under_a_stored_salt() -> None:
    box = SecretBox(OLD)
    sealed = box.seal("api-token-123")
    assert sealed.startswith("scrypt:") and "api-token-123" not in sealed
    assert box.open(sealed) == "api-token-123" and box.is_current(sealed)
    assert SecretBox(OLD).open(sealed) == "api-token-123"  # another process: the salt is in the value
    other = SecretBox(OLD).seal("api-token-123")
    assert other.split(":")[1] != sealed.split(":")[1]  # a fresh salt per box
    with pytest.raises(SecretBoxError, match="not the key") as info:
        SecretBox("another passphrase entirely").open(sealed)
    assert "api-token-123" not in str(info.value)
    with pytest.raises(SecretBoxError, match="set HOOKLINE_SECRET_KEY"):
        SecretBox(None).open(sealed)


def test_a_generated_key_is_used_as_it_is() -> None:
    key = new_key()
    sealed = SecretBox(key).seal("tok")
    assert sealed.startswith("fernet:") and SecretBox(key).open(sealed) == "tok"
    assert Fernet(key.encode()).decrypt(sealed.split(":", 1)[1].encode()) == b"tok"
    with pytest.raises(SecretBoxError):
        SecretBox(new_key()).open(sealed)


def test_values_sealed_by_the_old_derivation_still_open_and_are_resealed() -> None:
    old = legacy_seal(OLD, "legacy-token")
    box = SecretBox(OLD)
    assert box.open(old) == "legacy-token"
    assert not box.is_current(old)
    fresh = box.reseal(old)
    assert fresh is not None and fresh.startswith("scrypt:") and box.open(fresh) == "legacy-token"
    assert box.reseal(fresh) is None
    # A passphrase that held a comma was one key then: it still opens what it sealed.
    assert SecretBox("part one,part two").open(legacy_seal("part one,part two", "x")) == "x"


def test_several_keys_the_first_seals_all_open() -> None:
    generated = new_key()
    by_old, by_key = SecretBox(OLD).seal("one"), SecretBox(generated).seal("two")
    both = SecretBox(f"{NEW}, {OLD},{generated}")
    assert both.open(by_old) == "one" and both.open(by_key) == "two"
    assert not both.is_current(by_old) and not both.is_current(by_key)
    moved = both.reseal(by_old)
    assert moved is not None and SecretBox(NEW).open(moved) == "one"
    with pytest.raises(SecretBoxError):
        SecretBox(OLD).open(moved)
    assert SecretBox(OLD).reseal("plain:three") is not None  # rotate also encrypts what was stored plain


def stored(db: Database) -> dict[str, str]:
    with db.connection() as conn:
        rows = conn.fetchall(
            "SELECT 'aircall', secret FROM aircall_accounts UNION ALL SELECT 'calendly', token FROM calendly_accounts"
            " UNION ALL SELECT 'calendly-key', signing_key FROM calendly_signing_keys"
            " UNION ALL SELECT 'monday', token FROM monday_accounts"
            " UNION ALL SELECT 'monday-secret', signing_secret FROM monday_accounts"
        )
    return {k: v for k, v in rows}


def test_secrets_rotate_reseals_every_providers_credentials(db: Database, database_url: str) -> None:
    AircallAccounts(db, SecretBox(None)).add("ac", api_id="ac-id", api_token="aircall-secret-1")  # stored plain
    CalendlyAccounts(db, SecretBox(OLD)).add("cal", "calendly-secret-2", None, None)
    KeyStore(db, SecretBox(OLD)).add("cal", "calendly-signing-key-3")
    MondayAccounts(db, SecretBox(OLD)).add("mon", "monday-secret-4", "monday-signing-5", None)
    with db.connection() as conn:  # one value as the old HKDF derivation left it
        conn.execute("UPDATE monday_accounts SET token = ?", (legacy_seal(OLD, "monday-secret-4"),))
    before = stored(db)

    wrong = run_cli("secrets", "rotate", database_url=database_url, env={"HOOKLINE_SECRET_KEY": "unrelated key"})
    assert wrong.returncode == 1 and "nothing was changed" in wrong.stderr
    assert "calendly_accounts cal" in wrong.stderr and "monday_accounts mon" in wrong.stderr
    assert stored(db) == before  # not even the plain value: sealed under a wrong key it would be lost later

    done = run_cli("secrets", "rotate", database_url=database_url, env={"HOOKLINE_SECRET_KEY": f"{NEW},{OLD}"})
    assert done.returncode == 0, done.stderr
    assert "5 secrets re-sealed" in done.stdout and "0 already" in done.stdout
    after = stored(db)
    assert all(v.startswith("scrypt:") for v in after.values()), after
    new = SecretBox(NEW)
    assert {k: new.open(v) for k, v in after.items()} == {
        "aircall": "aircall-secret-1",
        "calendly": "calendly-secret-2",
        "calendly-key": "calendly-signing-key-3",
        "monday": "monday-secret-4",
        "monday-secret": "monday-signing-5",
    }
    for secret in ("secret-1", "secret-2", "key-3", "secret-4", "signing-5"):
        assert secret not in done.stdout + done.stderr
    again = run_cli("secrets", "rotate", database_url=database_url, env={"HOOKLINE_SECRET_KEY": NEW})
    assert again.returncode == 0 and "0 secrets re-sealed" in again.stdout and "5 already" in again.stdout
    key = run_cli("secrets", "new-key", database_url=database_url)
    assert key.returncode == 0 and SecretBox(key.stdout.strip()).seal("x").startswith("fernet:")
