"""`hookline import events DIR`: an export's events appended back into the log.

Every file is checked against the manifest (size and SHA-256) before a row is written; rows keep
their ids (projections such as a call's timeline name them) and an event already in the log (same
id, or same provider, account and dedup key) is skipped, so importing twice changes nothing. Imported
events get no jobs: they are history, and rules must not fire for them again. `hookline rebuild`
then replays them into the projections.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from hookline.retention.export import CHECKSUMS, MANIFEST
from hookline.retention.formats import FORMATS, read_rows
from hookline.retention.tables import ColumnKind, columns
from hookline.store import events
from hookline.store.engine import Connection, Database

BATCH = 1000


class ImportRefused(Exception):
    """The directory is not a complete, intact export of the expected kind (nothing was written)."""


@dataclass
class ImportResult:
    rows: int = 0
    inserted: int = 0

    @property
    def skipped(self) -> int:
        return self.rows - self.inserted


def load_manifest(directory: Path, kind: str) -> tuple[Path, dict[str, Any]]:
    """The export's directory and manifest, every file verified; DIR may be the --output or DIR/<kind>."""
    for candidate in (directory, directory / kind):
        if (candidate / MANIFEST).is_file():
            root = candidate
            break
    else:
        raise ImportRefused(f"no {MANIFEST} in {directory} or {directory / kind}")
    try:
        manifest = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise ImportRefused(f"{root / MANIFEST} is not readable JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("kind") != kind:
        raise ImportRefused(f"{root / MANIFEST} is not an export of {kind}")
    if manifest.get("format") not in FORMATS:
        raise ImportRefused(f"{root / MANIFEST}: unknown format {manifest.get('format')!r}")
    sums = {}
    if (root / CHECKSUMS).is_file():
        for line in (root / CHECKSUMS).read_text().splitlines():
            expected, _, name = line.partition("  ")
            sums[name] = expected
    for entry in manifest.get("files", []):
        rel = str(entry.get("path", ""))
        path = (root / rel).resolve()
        if root.resolve() not in path.parents:
            raise ImportRefused(f"{rel}: outside the export directory")
        if not path.is_file():
            raise ImportRefused(f"{rel}: missing")
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        if path.stat().st_size != entry.get("bytes") or digest.hexdigest() != entry.get("sha256"):
            raise ImportRefused(f"{rel}: checksum mismatch (the file is not the one exported)")
        if sums and sums.get(rel) != entry.get("sha256"):
            raise ImportRefused(f"{rel}: {CHECKSUMS} disagrees with {MANIFEST}")
    return root, manifest


def _decode(row: dict[str, Any], cols: list[tuple[str, ColumnKind]]) -> tuple[Any, ...]:
    out: list[Any] = []
    for name, kind in cols:
        value = row.get(name)
        if kind == "bytes" and value is not None:
            encoding = row.get(f"{name}_encoding")
            value = base64.b64decode(value) if encoding == "base64" else str(value).encode("utf-8")
        out.append(value)
    return tuple(out)


def import_events(db: Database, directory: Path) -> ImportResult:
    root, manifest = load_manifest(directory, "events")
    result = ImportResult()
    conn = db.connect()
    try:
        cols = columns(conn, "events")
        names = [n for n, _ in cols]
        fmt = cast(str, manifest["format"])
        file_cols = [(c["name"], c["type"]) for c in manifest.get("columns", [])]
        for entry in manifest["files"]:
            batch: list[tuple[Any, ...]] = []
            for row in read_rows(fmt, root / entry["path"], file_cols):
                batch.append(_decode(row, cols))
                if len(batch) >= BATCH:
                    result.inserted += _write(conn, names, batch)
                    result.rows += len(batch)
                    batch = []
            if batch:
                result.inserted += _write(conn, names, batch)
                result.rows += len(batch)
        # Explicit ids do not move PostgreSQL's identity: new events must get ids above the imported ones.
        events.follow_imported_ids(conn)
    finally:
        conn.close()
    return result


def _write(conn: Connection, names: list[str], batch: list[tuple[Any, ...]]) -> int:
    batch.sort(key=lambda r: r[0])
    with conn.transaction():
        inserted = events.insert_exported(conn, names, batch)
        if inserted:
            events.add_to_counts(conn, inserted)  # /api/stats counts what the log took in
        return inserted
