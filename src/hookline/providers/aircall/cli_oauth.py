"""`hookline aircall oauth configure|show`: the Aircall app a technology partner installs through."""

from __future__ import annotations

import json

import typer

from hookline.clitools import fail
from hookline.oauth.apps import AppStore, OAuthAppError
from hookline.providers.aircall.cli_accounts import _secret
from hookline.providers.aircall.cli_common import context, say
from hookline.providers.aircall.oauth_urls import DEFAULT_AUTHORIZE_URL, PROVIDER, install_uri, redirect_uri
from hookline.providers.aircall.settings import DEFAULT_API_URL

oauth_app = typer.Typer(help="The Aircall OAuth app (technology partners): install and redirect URIs.",
                        no_args_is_help=True)


@oauth_app.command("configure")
def configure(
    client_id: str = typer.Option(..., "--client-id", help="The app's client_id from Aircall"),
    client_secret: str = typer.Option(..., "--client-secret", help="The app's client_secret; `-` reads it from stdin"),
    authorize_url: str | None = typer.Option(
        None, "--authorize-url", help=f"Aircall's authorize page (default {DEFAULT_AUTHORIZE_URL})"
    ),
    api_url: str | None = typer.Option(
        None, "--api-url", help=f"The Public API base its /v1/oauth/token is under (default {DEFAULT_API_URL})"
    ),
) -> None:
    """Store the app's credentials (the secret sealed, never shown again)."""
    secret = _secret(client_secret, "client secret")
    ctx = context()
    try:
        app = AppStore(ctx.db, ctx.accounts.box).configure(
            PROVIDER, client_id=client_id, client_secret=secret, authorize_url=authorize_url, api_url=api_url,
            default_authorize_url=DEFAULT_AUTHORIZE_URL, default_api_url=DEFAULT_API_URL,
        )
    except OAuthAppError as exc:
        fail(str(exc), code=2)
    stored = "encrypted" if app.encrypted else "unencrypted (set HOOKLINE_SECRET_KEY to encrypt)"
    say(f"Aircall OAuth app [bold]{app.client_id}[/] configured; client secret stored {stored}")
    _print_uris(ctx.cfg.public_url)


def _print_uris(public_url: str | None) -> None:
    if public_url is None:
        say("set HOOKLINE_PUBLIC_URL to this hookline's https address to get the install and redirect URIs")
        return
    say(f"install_uri:  {install_uri(public_url)}")
    say(f"redirect_uri: {redirect_uri(public_url)}")


@oauth_app.command("show")
def show(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """The app's settings and the URIs to give Aircall (the client secret is never shown)."""
    ctx = context()
    app = AppStore(ctx.db, ctx.accounts.box).get(PROVIDER)
    if app is None:
        fail("no Aircall OAuth app yet: `hookline aircall oauth configure --client-id ID --client-secret -`")
    public = ctx.cfg.public_url
    row = {
        "provider": PROVIDER,
        "client_id": app.client_id,
        "client_secret": "encrypted" if app.encrypted else "stored",
        "authorize_url": app.authorize_url,
        "api_url": app.api_url,
        "install_uri": install_uri(public),
        "redirect_uri": redirect_uri(public),
        "updated_at": app.updated_at,
    }
    if as_json:
        print(json.dumps(row, indent=2))
        return
    for key, value in row.items():
        say(f"{key + ':':15} {value if value is not None else '(set HOOKLINE_PUBLIC_URL)'}")
