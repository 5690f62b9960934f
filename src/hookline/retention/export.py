"""`hookline export`: one table's rows of a period, as files per day with a manifest and checksums.

Rows are read by keyset pages of PAGE rows in (time, key) order, so memory stays bounded whatever
the period, no transaction stays open, and one day's file is open at a time. A byte column (the
events' raw `body`) is written as text when it is valid UTF-8 (webhook bodies are JSON), else in
base64; `<column>_encoding` says which ("utf8" or "base64"). The manifest is written last: a
directory without one is an unfinished export.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hookline import __version__
from hookline.retention.formats import RowWriter, open_writer
from hookline.retention.tables import ColumnKind, ExportTable, columns
from hookline.store.engine import Database
from hookline.store.tables import keyset_page

PAGE = 5000
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"


class ExportError(Exception):
    """The export cannot be made as asked (the message says why)."""


def file_columns(cols: list[tuple[str, ColumnKind]]) -> list[tuple[str, ColumnKind]]:
    """The columns of the files: each byte column becomes text plus `<name>_encoding`."""
    out: list[tuple[str, ColumnKind]] = []
    for name, kind in cols:
        if kind == "bytes":
            out += [(name, "text"), (f"{name}_encoding", "text")]
        else:
            out.append((name, kind))
    return out


def encode_bytes(value: bytes) -> tuple[str, str]:
    try:
        return value.decode("utf-8"), "utf8"
    except UnicodeDecodeError:
        return base64.b64encode(value).decode("ascii"), "base64"


def _encode(row: tuple[Any, ...], cols: list[tuple[str, ColumnKind]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for (name, kind), value in zip(cols, row, strict=True):
        if kind == "bytes":
            out[name], out[f"{name}_encoding"] = (None, None) if value is None else encode_bytes(bytes(value))
        elif kind == "bool" and value is not None:
            out[name] = bool(value)
        elif kind == "text" and value is not None and not isinstance(value, str):
            out[name] = json.dumps(value, separators=(",", ":"))  # PostgreSQL's jsonb, as SQLite holds it
        else:
            out[name] = value
    return out


def stream_rows(
    db: Database, table: ExportTable, since: float, until: float, page: int = PAGE
) -> Iterator[tuple[float, dict[str, Any]]]:
    """(time, encoded row) of every row with since <= time < until, in (time, key) order."""
    with db.connection() as conn:
        cols = columns(conn, table.table, table.kinds)
    order = [table.time_column, *table.key_columns]
    names = [c for c, _ in cols]
    positions = [names.index(c) for c in order]
    after: list[Any] | None = None
    while True:
        with db.connection() as conn:
            rows = keyset_page(conn, table.table, names, order, since, until, after, page)
            raw = [dict(zip(names, row, strict=True)) for row in rows]
            if table.expand is not None:
                table.expand(conn, raw)
            encoded = [_encode(tuple(r.values()), cols) for r in raw]
        for row, item in zip(rows, encoded, strict=True):
            yield float(row[positions[0]]), item
        if len(rows) < page:
            return
        after = [rows[-1][p] for p in positions]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def day_of(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d")


def export(db: Database, table: ExportTable, since: float, until: float, fmt: str, output: Path) -> dict[str, Any]:
    """Write the files and the manifest under output/<kind>/; returns the manifest."""
    target = output / table.kind
    if target.exists() and any(target.iterdir()):
        raise ExportError(f"{target} already holds files: export into an empty directory")
    with db.connection() as conn:
        cols = columns(conn, table.table, table.kinds)
    if not cols:
        raise ExportError(f"no table {table.table} in this database")
    fcols = file_columns(cols)
    files: list[dict[str, Any]] = []
    writer: RowWriter | None = None
    current: dict[str, Any] | None = None

    def finish() -> None:
        if writer is not None and current is not None:
            writer.close()
            path = target / current["path"]
            current.update(sha256=_sha256(path), bytes=path.stat().st_size)
            files.append(current)

    for ts, row in stream_rows(db, table, since, until):
        day = day_of(ts)
        if current is None or current["date"] != day:
            finish()
            rel = f"date={day}/part-0.{fmt}"
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            writer = open_writer(fmt, target / rel, fcols)
            current = {"path": rel, "date": day, "rows": 0}
        assert writer is not None
        writer.write(row)
        current["rows"] += 1
    finish()
    target.mkdir(parents=True, exist_ok=True)
    manifest = {
        "kind": table.kind,
        "table": table.table,
        "format": fmt,
        "since": since,
        "until": until,
        "time_column": table.time_column,
        "columns": [{"name": n, "type": k} for n, k in fcols],
        "rows": sum(f["rows"] for f in files),
        "files": files,
        "exported_at": time.time(),
        "hookline_version": __version__,
    }
    (target / CHECKSUMS).write_text("".join(f"{f['sha256']}  {f['path']}\n" for f in files))
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
