"""What every CLI command shares: settings, an opened and migrated database, clear failures."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from hookline.config import Settings, load_settings
from hookline.store import migrations
from hookline.store.engine import Database, DatabaseError

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a clear error (never a traceback) and exit non-zero."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except Exception as exc:  # pydantic's ValidationError and TOML errors
        fail(f"invalid settings: {exc}")


def open_database(cfg: Settings | None = None) -> Database:
    """The configured database with its schema current.

    On SQLite, pending migrations are applied (the embedded default needs no set-up step). On
    PostgreSQL they are not: shared databases are migrated on purpose, with `hookline db upgrade`.
    """
    from hookline.runtime import migration_sources

    cfg = cfg or settings()
    try:
        db = Database(cfg.database_url)
    except ValueError as exc:
        fail(str(exc))
    try:
        if db.dialect == "sqlite":
            migrations.upgrade(db, migration_sources())
        else:
            waiting = migrations.pending(db, migration_sources())
            if waiting:
                fail(f"the database schema is not current ({len(waiting)} pending): run `hookline db upgrade`")
    except DatabaseError as exc:
        fail(str(exc))
    return db
