"""Checking the recordings archive against the disk: does every archived row's file exist under the
archive directory, with the recorded size and sha256? And, on request, queue the rows whose file is
missing or damaged for the archiver again.

An archived row is never downloaded again by itself (recordings.py: "once"), so a restored backup, a
moved directory or a lost disk leaves rows whose file is gone; this is how they come back. Nothing
here deletes or writes a file: a damaged file is replaced only by the archiver's atomic rename after
a good download.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from hookline.store.engine import Connection, Database
from hookline.store.queries import load_queries

Q = load_queries(__package__)
Kind = Literal["missing", "damaged"]
_PAGE = 500  # archived rows read at a time: a large archive is never all in memory at once


def resolve(root: Path, rel: str) -> Path | None:
    """The archived file, refusing any path that would leave the archive directory."""
    base = root.resolve()
    path = (base / rel).resolve()
    return path if path.is_relative_to(base) and path.is_file() else None


def file_sha256(path: Path) -> str:
    """Streamed in chunks (hashlib.file_digest): a 500 MB recording is not read into memory."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@dataclass(frozen=True, slots=True)
class Problem:
    id: int
    account: str
    call_id: int
    kind: str
    path: str
    problem: Kind
    detail: str


@dataclass
class Report:
    checked: int = 0
    ok: int = 0
    missing: int = 0
    damaged: int = 0
    problems: list[Problem] = field(default_factory=list)
    requeued: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "problems": [asdict(p) for p in self.problems]}


def check(root: Path, rel: str | None, size: int | None, sha256: str | None) -> tuple[Kind, str] | None:
    """("missing" | "damaged", why) for one archived file, or None when it is what the row says."""
    if not rel:
        return "missing", "the row records no path"
    path = resolve(root, rel)
    if path is None:
        return "missing", f"no file {rel} under the archive directory"
    try:
        actual = path.stat().st_size
        if size is not None and actual != size:
            return "damaged", f"{actual} bytes on disk, {size} recorded"
        digest = file_sha256(path)
    except OSError as exc:  # unreadable (permissions, I/O error): as good as damaged, and said why
        return "damaged", f"cannot read {rel}: {exc.strerror or type(exc).__name__}"
    if sha256 is not None and digest != sha256:
        return "damaged", f"sha256 {digest[:12]}... on disk, {sha256[:12]}... recorded"
    return None


def _archived_rows(db: Database, account: str | None) -> Iterator[tuple[Any, ...]]:
    """Archived rows by id, a page per short-lived connection (no transaction held while hashing)."""
    after = 0
    query, params = (Q.archived_page, []) if account is None else (Q.archived_page_of_account, [account])
    while True:
        with db.connection() as conn:
            rows = conn.fetchall(query, [after, *params, _PAGE])
        yield from rows
        if len(rows) < _PAGE:
            return
        after = int(rows[-1][0])


def check_row(root: Path, row: Sequence[Any]) -> Problem | None:
    """One (id, account, call_id, kind, path, size, sha256) row: its Problem, or None when all is well."""
    row_id, account, call_id, kind, rel, size, sha256 = row
    found = check(root, rel, None if size is None else int(size), sha256)
    return None if found is None else Problem(int(row_id), account, int(call_id), kind, rel or "", *found)


def verify(db: Database, root: Path, account: str | None = None) -> Report:
    report = Report()
    for row in _archived_rows(db, account):
        report.checked += 1
        problem = check_row(root, row)
        if problem is None:
            report.ok += 1
            continue
        report.problems.append(problem)
        if problem.problem == "missing":
            report.missing += 1
        else:
            report.damaged += 1
    return report


def archived_row(conn: Connection, row_id: int) -> tuple[str, tuple[Any, ...]] | None:
    """(state, check_row's row) of one archive row, or None when there is no such row."""
    found = conn.fetchone(Q.archived_row, (row_id,))
    return None if found is None else (found[0], tuple(found[1:]))


def requeue(conn: Connection, problems: Sequence[Problem]) -> int:
    """Back to pending with a fresh attempt budget and the reason as last_error; the archiver then
    fetches a fresh link and downloads again. The path, size and sha256 go with the state (the row no
    longer vouches for a file). Only rows still archived are changed: one the archiver holds (a
    concurrent requeue) is left to it."""
    now = time.time()
    done = 0
    with conn.transaction():
        for p in problems:
            reason = f"verify found the archived file {p.problem}: {p.detail}"
            cur = conn.execute(Q.requeue_recording, (now, reason[:2000], now, p.id))
            done += int(cur.rowcount)
    return done


def known_account(conn: Connection, account: str) -> bool:
    """An account with credentials, or with rows in the archive (credentials removed since)."""
    return conn.fetchone(Q.known_recordings_account, (account, account)) is not None
