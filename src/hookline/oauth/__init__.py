"""What every provider's OAuth install flow shares: the app's settings (apps.py), single-use states
bound to a browser (state.py), the code exchange (exchange.py), installations (installations.py) and
the admin's result page (pages.py). Providers own their routes and what an install creates."""

from pathlib import Path

from hookline.sealed import SealedColumn
from hookline.store.migrations import MigrationSource

# The OAuth apps' client secrets and installations' refresh tokens: `hookline secrets rotate` re-seals them.
SEALED_COLUMNS = [
    SealedColumn("oauth_apps", "provider", "client_secret"),
    SealedColumn("oauth_apps", "provider", "webhook_secret"),
    SealedColumn("oauth_installations", "account", "refresh_token"),
]


def migration_source() -> MigrationSource:
    return MigrationSource("oauth", Path(__file__).parent / "migrations")
