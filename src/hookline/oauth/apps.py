"""The OAuth app hookline is for each provider: client id, sealed client secret, authorize and API URLs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from hookline.secretbox import SecretBox, SecretBoxError
from hookline.store.engine import Database
from hookline.store.queries import load_queries

Q = load_queries(__package__)


class OAuthAppError(Exception):
    """A clear message (bad input, no app configured, a secret that cannot be opened). Never holds a secret."""


@dataclass(frozen=True)
class OAuthApp:
    provider: str
    client_id: str
    sealed_secret: str
    authorize_url: str
    api_url: str
    updated_at: float
    sealed_webhook_secret: str | None = None  # Calendly's webhook signing key, monday.com's signing secret

    @property
    def encrypted(self) -> bool:
        return SecretBox.is_encrypted(self.sealed_secret)

    def client_secret(self, box: SecretBox) -> str:
        try:
            return box.open(self.sealed_secret)
        except SecretBoxError as exc:
            raise OAuthAppError(f"cannot read the {self.provider} OAuth client secret: {exc}") from None

    def webhook_secret(self, box: SecretBox) -> str | None:
        if self.sealed_webhook_secret is None:
            return None
        try:
            return box.open(self.sealed_webhook_secret)
        except SecretBoxError as exc:
            raise OAuthAppError(f"cannot read the {self.provider} app's webhook secret: {exc}") from None

    def __repr__(self) -> str:  # the sealed value stays out of logs and test output
        return f"OAuthApp({self.provider!r}, client_id={self.client_id!r})"


def check_http_url(url: str, what: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise OAuthAppError(f"{what} must be an http(s) URL, got {url!r}")
    return url.strip().rstrip("/")


class AppStore:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    def configure(
        self,
        provider: str,
        *,
        client_id: str,
        client_secret: str | None,
        authorize_url: str | None,
        api_url: str | None,
        default_authorize_url: str,
        default_api_url: str,
        webhook_secret: str | None = None,
    ) -> OAuthApp:
        """Create or update the provider's app. A secret of None keeps the stored one; URLs of None keep
        the stored ones (or take the defaults on first configuration). `webhook_secret`: the app's
        webhook signing key or signing secret (None keeps the stored one)."""
        client_id = client_id.strip()
        if not client_id:
            raise OAuthAppError("the client id is empty")
        current = self.get(provider)
        if client_secret is not None and not client_secret.strip():
            raise OAuthAppError("the client secret is empty")
        if client_secret is not None:
            sealed = self.box.seal(client_secret.strip())
        elif current is not None:
            sealed = current.sealed_secret
        else:
            raise OAuthAppError("give --client-secret (or `-` to read it from standard input)")
        authorize = check_http_url(
            authorize_url or (current.authorize_url if current else default_authorize_url), "--authorize-url"
        )
        api = check_http_url(api_url or (current.api_url if current else default_api_url), "--api-url")
        if webhook_secret is not None and not webhook_secret.strip():
            raise OAuthAppError("the webhook secret is empty")
        sealed_hook = self.box.seal(webhook_secret.strip()) if webhook_secret is not None else (
            current.sealed_webhook_secret if current else None)
        now = time.time()
        with self.db.connection() as conn, conn.transaction():
            conn.execute(Q.save_app, (provider, client_id, sealed, authorize, api, now))
            conn.execute(Q.set_app_webhook_secret, (sealed_hook, provider))
        return OAuthApp(provider, client_id, sealed, authorize, api, now, sealed_hook)

    def get(self, provider: str) -> OAuthApp | None:
        with self.db.connection() as conn:
            row = conn.fetchone(Q.app, (provider,))
            hook = conn.scalar(Q.app_webhook_secret, (provider,))
        if row is None:
            return None
        provider_, client_id, sealed, authorize, api, updated = row
        return OAuthApp(str(provider_), str(client_id), str(sealed), str(authorize), str(api), float(updated),
                        None if hook is None else str(hook))
