"""Calendly accounts: a name, the API token (personal access token or OAuth bearer) and the user and
organization URIs that `GET /users/me` answered for it.

The token is sealed by the SecretBox before it is stored, and opened only when the API is called
(`Account.token`); listings show `token_hint`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from hookline.providers.api_urls import check_api_url
from hookline.providers.kit.accounts import SealedAccountStore, SealedTokenAccount, checked_name_and_token
from hookline.providers.kit.credentials import box_for, mask
from hookline.secretbox import SecretBox

__all__ = ["Account", "AccountStore", "box_for"]


@dataclass(frozen=True, repr=False)
class Account(SealedTokenAccount):
    name: str
    sealed_token: str
    token_hint: str
    user_uri: str | None
    organization_uri: str | None
    created_at: float
    box: SecretBox
    api_url: str | None = None  # None: added before URLs were stored; follows the setting


class AccountStore(SealedAccountStore[Account]):
    table = "calendly_accounts"
    columns = ("name", "token", "token_hint", "user_uri", "organization_uri", "created_at", "api_url")

    def _account(self, row: tuple[Any, ...]) -> Account:
        name, sealed, hint, user, organization, created, api_url = row
        return Account(name, sealed, hint, user, organization, created, self.box, api_url)

    def add(
        self, name: str, token: str, user_uri: str | None, organization_uri: str | None, api_url: str | None = None
    ) -> bool:
        """Register or update an account; True when it is new. `api_url`: the URL its API calls go to
        (None keeps an existing account's)."""
        name, token = checked_name_and_token(name, token)
        url = None if api_url is None else check_api_url(api_url)
        return self._upsert(
            (name, self.box.seal(token), mask(token), user_uri, organization_uri, time.time(), url),
            ("token", "token_hint", "user_uri", "organization_uri"),
        )
