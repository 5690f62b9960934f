"""`hookline <provider> account update|remove`, written once for the providers whose accounts live in
a SealedAccountStore (Calendly, monday.com). Each provider passes its words; the commands are the same."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from hookline.clitools import bad_input, console, open_database
from hookline.providers.kit.accounts import SealedAccountStore
from hookline.store.engine import Database

StoreFor = Callable[[Database], SealedAccountStore[Any]]


def add_update_command(account_app: typer.Typer, store: StoreFor, *, label: str, url_help: str, doc: str) -> None:
    """`account update NAME --api-url URL`: point an account at another API URL; exit 2 for a bad URL
    or an unknown account. `label` names the provider in messages ("Calendly", "monday.com")."""

    def account_update(
        name: str = typer.Argument(..., help="The account to change"),
        api_url: str = typer.Option(..., "--api-url", metavar="URL", help=url_help),
    ) -> None:
        try:
            found = store(open_database()).set_api_url(name, api_url)
        except ValueError as exc:
            bad_input(str(exc))
        if not found:
            bad_input(f"no {label} account named {name!r}")
        console.print(f"account {name} now calls the API at {api_url.strip()}", highlight=False)

    account_update.__doc__ = doc
    account_app.command("update")(account_update)


def add_remove_command(account_app: typer.Typer, store: StoreFor, *, label: str, left: str, doc: str) -> None:
    """`account remove NAME`: forget an account (nothing is deleted at the provider: `left` says
    what stays there, e.g. "its webhooks at monday.com"); exit 2 for an unknown account."""

    def account_remove(name: str = typer.Argument(..., help="The account to forget")) -> None:
        if not store(open_database()).remove(name):
            bad_input(f"no {label} account named {name!r}")
        console.print(f"account {name} removed; {left} are left as they are", highlight=False)

    account_remove.__doc__ = doc
    account_app.command("remove")(account_remove)
