"""SealedAccountStore: a provider's accounts table whose credentials are sealed by the SecretBox.

Calendly and monday.com keep the same shape: a `name` primary key, a sealed `token` with its
`token_hint`, provider-specific columns, `created_at` and the `api_url` the account's API calls go
to (None: added before URLs were stored; it follows the setting). What differs is the table, its
columns and the Account a row becomes; the rest (get, list, upsert, change the URL, remove) is here, its SQL
composed by store/tables.py from the class's table and column names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from hookline.providers.api_urls import check_api_url
from hookline.secretbox import SecretBox
from hookline.store import tables
from hookline.store.engine import Database

A = TypeVar("A")


class SealedTokenAccount:
    """What an account row (a frozen dataclass with `repr=False`) shares: its API token is opened only
    when asked for, and its repr shows the name and the token's hint, never a secret."""

    name: str
    sealed_token: str
    token_hint: str
    box: SecretBox

    @property
    def token(self) -> str:
        """The API token in clear; raises SecretBoxError when it cannot be opened."""
        return self.box.open(self.sealed_token)

    def __repr__(self) -> str:
        return f"Account(name={self.name!r}, token={self.token_hint!r})"


def checked_name_and_token(name: str, token: str) -> tuple[str, str]:
    """Both stripped; ValueError when one is empty."""
    name, token = name.strip(), token.strip()
    if not name:
        raise ValueError("the account name is empty")
    if not token:
        raise ValueError("the token is empty")
    return name, token


class SealedAccountStore(ABC, Generic[A]):
    """A subclass names its `table` and `columns` (name first, api_url last) and builds its Account
    from a row in `_account`; `_upsert` writes one row and says whether it was new."""

    table: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]

    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    @abstractmethod
    def _account(self, row: tuple[Any, ...]) -> A:
        """The provider's Account from a row of `columns`."""

    def _upsert(self, values: Sequence[Any], updated: Sequence[str]) -> bool:
        """Insert a row (values in `columns` order) or, for an existing name, set the `updated`
        columns and the api_url when one is given (None keeps the account's); True when it is new."""
        with self.db.connection() as conn:
            return tables.upsert_keyed(conn, self.table, self.columns, values, updated, kept=("api_url",))

    def get(self, name: str) -> A | None:
        with self.db.connection() as conn:
            rows = tables.keyed_rows(conn, self.table, self.columns, "name", name)
        return self._account(tuple(rows[0])) if rows else None

    def all(self) -> list[A]:
        with self.db.connection() as conn:
            rows = tables.keyed_rows(conn, self.table, self.columns, "name")
        return [self._account(tuple(r)) for r in rows]

    def set_api_url(self, name: str, api_url: str) -> bool:
        """Point an account at another API URL (every process uses it from its next call); False: no
        such account. ValueError when the URL is not one."""
        url = check_api_url(api_url)
        with self.db.connection() as conn:
            return bool(tables.update_keyed(conn, self.table, "name", name, "api_url", url))

    def remove(self, name: str) -> bool:
        with self.db.connection() as conn:
            return bool(tables.delete_keyed(conn, self.table, "name", name))
