"""`hookline <provider> oauth configure|show` for providers whose app also has a webhook secret
(Calendly's webhook signing key, monday.com's signing secret); Aircall has its own (cli_oauth.py)."""

from __future__ import annotations

import json
import sys

import typer

from hookline.clitools import bad_input, console, fail, open_database, settings
from hookline.oauth.apps import AppStore, OAuthAppError
from hookline.oauth.flow import install_uri, redirect_uri
from hookline.secretbox import SecretBox


def _secret(value: str, what: str) -> str:
    """`-` reads the secret from standard input (one line each, in the order of the options)."""
    if value == "-":
        line = sys.stdin.readline().strip()
        if not line:
            bad_input(f"no {what} on standard input")
        return line
    return value


def oauth_commands(provider: str, label: str, *, default_authorize_url: str, default_api_url: str,
                   hook_option: str, hook_what: str) -> typer.Typer:
    app = typer.Typer(help=f"The {label} OAuth app (technology partners): install and redirect URIs.",
                      no_args_is_help=True)

    def store() -> tuple[AppStore, str | None]:
        cfg = settings()
        key = cfg.secret_key.get_secret_value() if cfg.secret_key is not None else None
        return AppStore(open_database(cfg), SecretBox(key)), cfg.public_url

    @app.command("configure")
    def configure(
        client_id: str = typer.Option(..., "--client-id", help=f"The app's client_id from {label}"),
        client_secret: str = typer.Option(..., "--client-secret", help="The app's client_secret; `-` reads stdin"),
        webhook_secret: str = typer.Option(..., hook_option, help=f"The app's {hook_what}; `-` reads stdin "
                                           "(after the client secret)"),
        authorize_url: str | None = typer.Option(
            None, "--authorize-url", help=f"{label}'s authorize page (default {default_authorize_url}); its "
            "token endpoint is next to it"),
        api_url: str | None = typer.Option(None, "--api-url", help=f"{label}'s API (default {default_api_url})"),
    ) -> None:
        """Store the app's credentials (secrets sealed, never shown again)."""
        secret = _secret(client_secret, "client secret")
        hook = _secret(webhook_secret, hook_what)
        apps, public = store()
        try:
            done = apps.configure(provider, client_id=client_id, client_secret=secret, authorize_url=authorize_url,
                                  api_url=api_url, default_authorize_url=default_authorize_url,
                                  default_api_url=default_api_url, webhook_secret=hook)
        except OAuthAppError as exc:
            bad_input(str(exc))
        stored = "encrypted" if done.encrypted else "unencrypted (set HOOKLINE_SECRET_KEY to encrypt)"
        console.print(f"{label} OAuth app [bold]{done.client_id}[/] configured; secrets stored {stored}")
        if public is None:
            console.print("set HOOKLINE_PUBLIC_URL to this hookline's https address to get the redirect URI")
        else:
            console.print(f"install_uri:  {install_uri(public, provider)}")
            console.print(f"redirect_uri: {redirect_uri(public, provider)}")

    @app.command("show")
    def show(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
        """The app's settings and the URIs to give the provider (secrets are never shown)."""
        apps, public = store()
        found = apps.get(provider)
        if found is None:
            fail(f"no {label} OAuth app yet: `hookline {provider} oauth configure --client-id ID --client-secret - "
                 f"{hook_option} -`")
        row = {
            "provider": provider,
            "client_id": found.client_id,
            "client_secret": "encrypted" if found.encrypted else "stored",
            hook_option.removeprefix("--").replace("-", "_"):
                None if found.sealed_webhook_secret is None
                else "encrypted" if SecretBox.is_encrypted(found.sealed_webhook_secret) else "stored",
            "authorize_url": found.authorize_url,
            "api_url": found.api_url,
            "install_uri": install_uri(public, provider),
            "redirect_uri": redirect_uri(public, provider),
            "updated_at": found.updated_at,
        }
        if as_json:
            print(json.dumps(row, indent=2))
            return
        for key, value in row.items():
            console.print(f"{key + ':':20} {value if value is not None else '(not set)'}", highlight=False,
                          markup=False)

    return app
