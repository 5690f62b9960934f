"""`hookline secrets new-key|rotate`: keys for HOOKLINE_SECRET_KEY, and re-sealing stored credentials."""

from __future__ import annotations

import typer

from hookline.clitools import console, fail, open_database, providers, settings

secrets_app = typer.Typer(help="Stored credentials and HOOKLINE_SECRET_KEY.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(secrets_app, name="secrets")


@secrets_app.command("new-key")
def new_key() -> None:
    """Print a generated key for HOOKLINE_SECRET_KEY (better than a passphrase: nothing to guess)."""
    from hookline.secretbox import new_key as generate

    print(generate(), flush=True)


@secrets_app.command("rotate")
def rotate() -> None:
    """Re-seal every stored credential with the first key of HOOKLINE_SECRET_KEY.

    To change keys: put the new key first (HOOKLINE_SECRET_KEY=NEW,OLD), run this, then drop OLD.
    Also encrypts credentials stored while no key was set, and those sealed before scrypt.
    """
    from hookline.oauth import SEALED_COLUMNS
    from hookline.sealed import rotate as reseal_all
    from hookline.secretbox import SecretBox

    cfg = settings()
    key = cfg.secret_key.get_secret_value() if cfg.secret_key is not None else None
    box = SecretBox(key)
    columns = [*SEALED_COLUMNS, *(c for p in providers() for c in p.sealed_columns())]
    report = reseal_all(open_database(cfg), box, columns)
    if report.unopened:
        fail(
            f"{len(report.unopened)} secrets open with none of the keys, so nothing was changed: "
            + ", ".join(report.unopened[:20])
            + " (add the key they were stored with to HOOKLINE_SECRET_KEY)"
        )
    how = "the first key of HOOKLINE_SECRET_KEY" if box.encrypts else "no key (HOOKLINE_SECRET_KEY is not set)"
    console.print(f"{report.resealed} secrets re-sealed with {how}, {report.current} already were", highlight=False)
