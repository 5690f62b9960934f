"""`hookline export`, `hookline import events`, `hookline retention show` and `hookline db vacuum`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from hookline.clitools import console, fail, open_database, providers, time_option
from hookline.store import maintenance

if TYPE_CHECKING:
    from hookline.store.engine import Database

retention_app = typer.Typer(help="Retention policies: what is deleted, and when.", no_args_is_help=True)
import_app = typer.Typer(help="Bring an export back into the database.", no_args_is_help=True)


def register(app: typer.Typer, db_app: typer.Typer) -> None:
    app.command("export")(export_cmd)
    app.add_typer(import_app, name="import")
    app.add_typer(retention_app, name="retention")
    db_app.command("vacuum")(db_vacuum)


def export_cmd(
    kind: str = typer.Argument(..., help="events, calls, bookings or board-items"),
    since: str | None = typer.Option(None, "--since", help="From this time (ISO 8601 or unix seconds), inclusive"),
    until: str | None = typer.Option(None, "--until", help="Up to this time, exclusive (default: now)"),
    fmt: str = typer.Option("jsonl.gz", "--format", help="jsonl.gz, parquet or csv"),
    output: Path = typer.Option(..., "--output", help="Directory; files go to DIR/<kind>/date=YYYY-MM-DD/"),
) -> None:
    """Export a period's rows as files per day, with manifest.json and SHA256SUMS."""
    from hookline.retention.export import ExportError, export
    from hookline.retention.formats import FORMATS
    from hookline.retention.tables import export_tables

    tables = export_tables(providers())
    if kind not in tables:
        fail(f"unknown kind {kind!r}: one of {', '.join(tables)}", 2)
    if fmt not in FORMATS:
        fail(f"--format: one of {', '.join(FORMATS)}", 2)
    start = 0.0 if since is None else time_option(since, "--since")
    end = time.time() if until is None else time_option(until, "--until")
    if end <= start:
        fail("--until must be later than --since", 2)
    db = open_database()
    try:
        manifest = export(db, tables[kind], start, end, fmt, output)
    except (ExportError, OSError) as exc:
        fail(str(exc), 2 if isinstance(exc, ExportError) else 1)
    console.print(
        f"exported {manifest['rows']} {kind} rows in {len(manifest['files'])} files to {output / kind}",
        highlight=False,
    )


def import_or_fail(db: Database, directory: Path) -> None:
    from hookline.retention.reimport import ImportRefused, import_events

    try:
        result = import_events(db, directory)
    except ImportRefused as exc:
        fail(f"import refused: {exc}", 2)
    console.print(
        f"imported {result.inserted} events ({result.skipped} already stored) from {directory}", highlight=False
    )


@import_app.command("events")
def import_events_cmd(
    directory: Path = typer.Argument(..., help="An export of events (its --output, or the events/ in it)"),
) -> None:
    """Append an export's events to the log (checksums verified first; events already stored are skipped)."""
    import_or_fail(open_database(), directory)
    console.print("run `hookline rebuild` to replay them into the projections", highlight=False)


@retention_app.command("show")
def retention_show(as_json: bool = typer.Option(False, "--json", help="JSON instead of a table")) -> None:
    """What each retention policy would delete now: rows, the oldest, and old rows kept because still needed."""
    from hookline.retention.policies import report
    from hookline.retention.settings import load_retention_settings
    from hookline.timeparse import iso

    try:
        cfg = load_retention_settings()
    except Exception as exc:  # pydantic's ValidationError and TOML errors
        fail(f"invalid retention settings: {exc}", 2)
    db = open_database()
    out: list[dict[str, Any]] = []
    with db.connection() as conn:
        for p in report(conn, cfg, providers(), time.time()):
            found = p["found"] or {"rows": 0, "oldest": None, "held_back": 0}
            out.append({
                "policy": p["name"],
                "setting": p["setting"],
                "days": p["days"],
                "before": iso(p["before"]),
                "rows": found["rows"],
                "oldest": iso(found["oldest"]),
                "held_back": found["held_back"],
                "stored_rows": p["stored"]["rows"],
                "stored_bytes": p["stored"]["bytes"],
                "stored_oldest": iso(p["stored"]["oldest"]),
            })
    if as_json:
        print(json.dumps(out, indent=2))
        return
    table = Table("policy", "keep (days)", "stored (rows, size, estimated)", "deletes before", "rows", "oldest",
                  "kept (still needed)")
    for r in out:
        table.add_row(
            r["policy"],
            "forever" if not r["days"] else f"{r['days']:g}",
            f"{r['stored_rows']:,}, {r['stored_bytes'] / 1048576:,.1f} MiB",
            r["before"] or "-",
            str(r["rows"]),
            r["oldest"] or "-",
            str(r["held_back"]),
        )
    console.print(table)


def db_vacuum() -> None:
    """Compact the database; on SQLite also switch it to incremental auto-vacuum (stop `serve` first)."""
    db = open_database()
    conn = db.connect()
    try:
        console.print(maintenance.vacuum(db, conn), highlight=False)
    finally:
        conn.close()
