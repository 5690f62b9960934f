"""The `hookline` command, the top layer of the CLI: the root commands (serve, db, admin-token,
version), every part's commands attached (`register(app)`), then each provider's sub-commands. Only
this package (and app.py) imports the registry of providers; it hands them to the commands below it
through clitools.wire()."""

from __future__ import annotations

import os
import socket
import sys
from typing import TYPE_CHECKING, Any

import typer
import typer.main

from hookline import __version__
from hookline.automations.cli import register as register_automations
from hookline.cli.dispatcher import register as register_dispatcher
from hookline.cli.pipeline import register as register_pipeline_cli
from hookline.cli.simulators import register as register_simulators
from hookline.cli_help import plain_metavars
from hookline.clitools import Wiring, bad_input, check_provider_settings, console, fail, open_database, settings, wire
from hookline.config import SettingsError
from hookline.forwarding.cli import register as register_forwarding
from hookline.providers.registry import providers
from hookline.retention.cli import register as register_retention_cli
from hookline.secrets_cli import register as register_secrets_cli
from hookline.web.dashboard_cli import register as register_dashboard_cli

if TYPE_CHECKING:
    from hookline.store.engine import Database
    from hookline.store.migrations import Migration, MigrationSource

KEEP_ALIVE_SECONDS = 5


def _migration_sources() -> list[MigrationSource]:
    from hookline.assembly import migration_sources

    return migration_sources(providers())


# Every command below finds the providers and the schemas here (clitools.wiring()): only this top
# layer imports the registry of providers and the assembly.
wire(Wiring(providers(), _migration_sources))

app = typer.Typer(
    help="hookline: webhooks from SaaS tools as a dependable data source.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
simulate_app = typer.Typer(help="Run a provider simulator on localhost.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(simulate_app, name="simulate")


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to listen on [HOOKLINE_HOST, default 127.0.0.1]"),
    port: int | None = typer.Option(None, help="Port to listen on [HOOKLINE_PORT, default 8080]"),
    certfile: str | None = typer.Option(None, help="TLS certificate (PEM); serve https directly"),
    keyfile: str | None = typer.Option(None, help="TLS private key (PEM)"),
    no_worker: bool = typer.Option(
        False, "--no-worker", help="Do not run a pipeline worker in this process [HOOKLINE_WORKER=false]"
    ),
) -> None:
    """Serve the webhook receivers, the admin API, the dashboard and health endpoints."""
    import structlog
    import uvicorn

    from hookline import http_protocol
    from hookline import log as logconf
    from hookline.app import create_app
    from hookline.store.engine import AlreadyServing, hold_sqlite_lock
    from hookline.web import admin_token

    if bool(certfile) != bool(keyfile):
        bad_input("--certfile and --keyfile go together")
    for path in (certfile, keyfile):
        if path and not os.path.isfile(path):
            bad_input(f"no such file: {path}")
    cfg = settings(host=host, port=port, worker=False if no_worker else None)
    check_provider_settings()
    logconf.configure(cfg.log_format, cfg.log_level)
    if admin_token.is_weak(cfg):
        structlog.get_logger("hookline.serve").warning(
            f"HOOKLINE_ADMIN_TOKEN is weak: shorter than {admin_token.MIN_LENGTH} characters;"
            " use a long random one (e.g. `openssl rand -base64 32`)"
        )
    db = open_database(cfg)
    if db.url.path is not None:
        try:
            lock = hold_sqlite_lock(db.url.path)  # noqa: F841 - held while serving
        except AlreadyServing as exc:
            fail(str(exc))
    generated = admin_token.ensure(db, cfg)
    db.close()
    if generated:
        # Shown once; only its digest is stored. `hookline admin-token --reset` makes a new one.
        print(f"admin token (shown once, keep it): {generated}", flush=True)
    web_app = create_app(cfg)
    config = uvicorn.Config(
        web_app,
        host=cfg.host,
        port=cfg.port,
        loop="uvloop",
        # httptools, with a deadline on each request's head and body (408, the connection closed).
        http=http_protocol.protocol(cfg.body_timeout_seconds, web_app.runtime.metrics.request_timed_out),
        lifespan="on",
        access_log=False,
        log_level="warning",
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        timeout_graceful_shutdown=10,
        # An idle keep-alive connection closes after this (providers open new ones anyway).
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # The client address and scheme come from X-Forwarded-For/-Proto only when the peer is one
        # of these proxies: sign-in throttling counts per address, HSTS follows the scheme.
        proxy_headers=True,
        forwarded_allow_ips=cfg.forwarded_allow_ips,
    )
    # Bind here rather than in uvicorn so that a taken port is a clear message and exit 1.
    family = socket.AF_INET6 if ":" in cfg.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((cfg.host, cfg.port))
    except OSError as exc:
        sock.close()
        fail(f"cannot listen on {cfg.host}:{cfg.port}: {exc.strerror or exc}")
    scheme = "https" if certfile else "http"
    console.print(f"hookline {__version__} listening on {scheme}://{cfg.host}:{cfg.port}", highlight=False)
    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            # Open live streams (SSE) end at once; uvicorn then closes connections without waiting.
            web_app.runtime.changes.close()
            super().handle_exit(sig, frame)

    Server(config).run(sockets=[sock])


def _migrate(apply: bool) -> tuple[Database, list[Migration]]:
    """Apply (or only list) pending migrations of the configured database, failing with a message."""
    from hookline.store import migrations
    from hookline.store.engine import Database, DatabaseError

    cfg = settings()
    try:
        db = Database(cfg.database_url)
        run = migrations.upgrade if apply else migrations.pending
        return db, run(db, _migration_sources())
    except ValueError as exc:  # the database URL
        bad_input(str(exc))
    except DatabaseError as exc:
        fail(str(exc))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (the way to migrate PostgreSQL)."""
    db, ran = _migrate(apply=True)
    for m in ran:
        console.print(f"applied {m.component} {m.version:04d}_{m.name}", highlight=False)
    console.print(f"schema current ({len(ran)} applied) on {db.url.redacted()}", highlight=False)


@db_app.command("status")
def db_status() -> None:
    """Show pending migrations; exits 1 when the schema is not current."""
    db, waiting = _migrate(apply=False)
    for m in waiting:
        console.print(f"pending {m.component} {m.version:04d}_{m.name}", highlight=False)
    if waiting:
        raise typer.Exit(1)
    console.print(f"schema current on {db.url.redacted()}", highlight=False)


@app.command("admin-token")
def admin_token_cmd(
    reset: bool = typer.Option(False, "--reset", help="Generate a new admin token, replacing the stored one"),
) -> None:
    """Generate the admin token (when HOOKLINE_ADMIN_TOKEN is not set)."""
    from hookline.web import admin_token

    cfg = settings()
    if cfg.admin_token is not None:
        bad_input("HOOKLINE_ADMIN_TOKEN is set: the admin token is whatever it says")
    db = open_database(cfg)
    token = admin_token.reset(db) if reset else admin_token.ensure(db, cfg)
    if token is None:
        bad_input("an admin token exists already (it was shown once); use --reset for a new one")
    if reset:
        from hookline.web import session_store

        # The new token's digest already voids every session's cookie; the rows go too.
        session_store.delete_all(db)
    print(token)


@app.command()
def version() -> None:
    """Print hookline's version."""
    console.print(__version__)


register_pipeline_cli(app)
# Forwarding: destinations, deliveries, events replay; the dispatcher on its own.
register_forwarding(app)
register_dispatcher(app)
register_automations(app)
register_dashboard_cli(app)
register_secrets_cli(app)
register_retention_cli(app, db_app)

for _provider in providers():
    _provider.register_cli(app)
    _provider.register_simulator(simulate_app)
# The built-in providers' fakes (hookline.testing), attached here rather than by the providers.
register_simulators(app, simulate_app)


def command() -> Any:
    """The click command tree of `app`, with plain placeholders in its help (cli_help.py)."""
    return plain_metavars(typer.main.get_command(app))


def main() -> None:
    try:
        command()()
    except KeyboardInterrupt:
        sys.exit(130)
    except SettingsError as exc:  # read late (a provider's settings, inside `serve`): still plain lines
        for line in exc.lines:
            print(f"hookline: {line}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:  # the last guard: a message, never a traceback
        if os.environ.get("HOOKLINE_DEBUG"):
            raise
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
