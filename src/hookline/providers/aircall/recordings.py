"""The recordings archive's table: what is wanted (written by the worker), claimed, archived, parked.

The worker's transaction only records that a call's recording (or voicemail) is wanted; the
download happens in the archiver loop (archiver.py), outside any transaction, because a projection
batch holds the SQLite write lock and a download can take minutes. Every statement that ends a claim
is fenced by the claim token, like the jobs table: an archiver whose lease lapsed changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from hookline.pipeline.handlers import EventHandler, StoredEvent
from hookline.providers.aircall import models as m
from hookline.providers.aircall.projections import epoch
from hookline.store.engine import Connection

KINDS = ("recording", "voicemail")
STATES = ("pending", "running", "archived", "parked")
# The events whose call data is complete enough to archive its media (call.hungup comes too early);
# a call read by a backfill (the watchdog's, or `aircall backfill`) once it is done.
TRIGGERS = frozenset({"call.ended", "call.comm_assets_generated", "call.synced"})

_envelope = msgspec.json.Decoder(m.Envelope).decode


def wanted_kinds(call: m.Call) -> list[str]:
    """Which media a call carries (a link, or a short link)."""
    found = []
    if call.recording or call.recording_short_url:
        found.append("recording")
    if call.voicemail or call.voicemail_short_url:
        found.append("voicemail")
    return found


_WANT = (
    "INSERT INTO aircall_recordings (account, call_id, kind, started_at, run_at, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, call_id, kind) DO NOTHING"
)


def want(conn: Connection, rows: Sequence[tuple[str, int, str, float | None]]) -> None:
    """Record (account, call_id, kind, started_at) as wanted; rows already known are left as they are."""
    now = time.time()
    for account, call_id, kind, started_at in sorted(set(rows), key=lambda r: (r[0], r[1], r[2])):
        conn.execute(_WANT, (account, call_id, kind, started_at, now, now, now))


class RecordingRequests(EventHandler):
    """Runs in the worker's transaction: a row per call and kind to archive, nothing else.

    Owns no table for `rebuild` to empty: the archive describes files on disk, and a replay must not
    download them again (its inserts meet the existing rows and do nothing).
    """

    name = "aircall.recordings"

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        rows: list[tuple[str, int, str, float | None]] = []
        for ev in events:
            if ev.event not in TRIGGERS:
                continue
            try:
                call = m.decode_data(ev.event, bytes(_envelope(ev.body).data))
            except msgspec.MsgspecError:
                continue  # the projections park this event with the error
            if not isinstance(call, m.Call) or call.id is None:
                continue
            if ev.event == "call.synced" and call.status != "done":
                continue  # read while under way: its call.ended (or a later read) will carry the media
            rows.extend((ev.account, call.id, kind, epoch(call.started_at)) for kind in wanted_kinds(call))
        want(conn, rows)


# --- the archiver's side ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    account: str
    call_id: int
    kind: str
    started_at: float | None
    attempts: int


_CLAIM = (
    "UPDATE aircall_recordings SET state = 'running', claim = ?, attempts = attempts + 1, run_at = ?,"
    " updated_at = ? WHERE id IN (SELECT id FROM aircall_recordings"
    " WHERE state IN ('pending', 'running') AND run_at <= ? AND account NOT IN (SELECT account FROM"
    " oauth_installations WHERE provider = 'aircall' AND NOT installed) ORDER BY run_at LIMIT ?{lock})"
    " RETURNING id, account, call_id, kind, started_at, attempts"
)


def claim(conn: Connection, token: str, limit: int, lease: float, now: float | None = None) -> list[Claimed]:
    """Take up to `limit` due rows (pending, or running with an expired lease) under `token`.

    On PostgreSQL SKIP LOCKED gives concurrent archivers disjoint rows; on SQLite the statement runs
    under the database's single write lock, which is as exclusive.
    """
    now = time.time() if now is None else now
    lock = " FOR UPDATE SKIP LOCKED" if conn.dialect == "postgresql" else ""
    with conn.transaction():
        rows = conn.fetchall(_CLAIM.format(lock=lock), (token, now + lease, now, now, limit))
    return [
        Claimed(int(r[0]), r[1], int(r[2]), r[3], None if r[4] is None else float(r[4]), int(r[5])) for r in rows
    ]


def renew(conn: Connection, token: str, lease: float) -> int:
    now = time.time()
    with conn.transaction():
        cur = conn.execute(
            "UPDATE aircall_recordings SET run_at = ?, updated_at = ? WHERE claim = ? AND state = 'running'",
            (now + lease, now, token),
        )
    return int(cur.rowcount)


def archived(conn: Connection, row_id: int, token: str, *, path: str, size: int, sha256: str) -> bool:
    """Record the file (path relative to the archive directory); False when the claim was lost."""
    now = time.time()
    with conn.transaction():
        cur = conn.execute(
            "UPDATE aircall_recordings SET state = 'archived', claim = NULL, last_error = NULL, path = ?,"
            " size = ?, sha256 = ?, archived_at = ?, run_at = ?, updated_at = ? WHERE id = ? AND claim = ?",
            (path, size, sha256, now, now, now, row_id, token),
        )
    return bool(cur.rowcount)


def failed(conn: Connection, row_id: int, token: str, error: str, *, retry_at: float | None) -> bool:
    """Back to pending until `retry_at`, or parked when `retry_at` is None; fenced by the claim."""
    now = time.time()
    with conn.transaction():
        cur = conn.execute(
            "UPDATE aircall_recordings SET state = ?, claim = NULL, run_at = ?, last_error = ?, updated_at = ?"
            " WHERE id = ? AND claim = ?",
            ("parked" if retry_at is None else "pending", now if retry_at is None else retry_at, error[:2000],
             now, row_id, token),
        )
    return bool(cur.rowcount)


def release(conn: Connection, token: str) -> int:
    """Hand a claim back untouched (shutdown): due at once, the attempt not counted."""
    now = time.time()
    with conn.transaction():
        cur = conn.execute(
            "UPDATE aircall_recordings SET state = 'pending', claim = NULL, run_at = ?, attempts = attempts - 1,"
            " updated_at = ? WHERE claim = ? AND state = 'running'",
            (now, now, token),
        )
    return int(cur.rowcount)


def park_abandoned(conn: Connection, max_attempts: int, now: float | None = None) -> int:
    """Park rows whose lease lapsed on their last attempt (the archiver died with them every time)."""
    now = time.time() if now is None else now
    with conn.transaction():
        cur = conn.execute(
            "UPDATE aircall_recordings SET state = 'parked', claim = NULL, updated_at = ?,"
            " last_error = 'the archiver stopped before finishing, ' || attempts || ' times'"
            " WHERE state = 'running' AND run_at <= ? AND attempts >= ?",
            (now, now, max_attempts),
        )
    return int(cur.rowcount)


# --- reading and operator actions ---------------------------------------------------------------

COLUMNS = (
    "id", "account", "call_id", "kind", "started_at", "state", "run_at", "attempts", "last_error", "path",
    "size", "sha256", "archived_at", "created_at", "updated_at",
)
_SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM aircall_recordings"


def _row(row: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(COLUMNS, row, strict=True))


def list_recordings(
    conn: Connection,
    *,
    state: str | None = None,
    account: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[dict[str, Any]]:
    """Newest first."""
    where: list[str] = []
    params: list[Any] = []
    for cond, value in (("state = ?", state), ("account = ?", account), ("id < ?", before_id)):
        if value is not None:
            where.append(cond)
            params.append(value)
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?"
    return [_row(r) for r in conn.fetchall(sql, [*params, limit])]


def for_call(conn: Connection, account: str, call_id: int) -> dict[str, dict[str, Any]]:
    """The archive rows of one call, by kind."""
    rows = conn.fetchall(_SELECT + " WHERE account = ? AND call_id = ?", (account, call_id))
    return {r["kind"]: r for r in map(_row, rows)}


def get(conn: Connection, row_id: int) -> dict[str, Any] | None:
    row = conn.fetchone(_SELECT + " WHERE id = ?", (row_id,))
    return None if row is None else _row(row)


def retry(conn: Connection, ids: Sequence[int] | None = None) -> int:
    """Queue parked rows again with a fresh attempt budget: the given ones, or every parked one (None)."""
    now = time.time()
    sql = (
        "UPDATE aircall_recordings SET state = 'pending', run_at = ?, attempts = 0, updated_at = ?"
        " WHERE state = 'parked'"
    )
    with conn.transaction():
        if ids is None:
            return int(conn.execute(sql, (now, now)).rowcount)
        return sum(int(conn.execute(sql + " AND id = ?", (now, now, i)).rowcount) for i in ids)


def counts(conn: Connection) -> dict[str, int]:
    found = dict(conn.fetchall("SELECT state, count(*) FROM aircall_recordings GROUP BY state"))
    return {s: int(found.get(s, 0)) for s in STATES}


def want_since(conn: Connection, since: float, until: float | None, account: str | None) -> int:
    """Rows for the finished calls already projected in a window (`recordings sync`); returns how many new."""
    sql = (
        "SELECT account, id, has_recording, has_voicemail, started_at FROM aircall_calls"
        " WHERE started_at >= ? AND status = 'done' AND (has_recording OR has_voicemail)"
    )
    params: list[Any] = [since]
    if until is not None:
        sql += " AND started_at <= ?"
        params.append(until)
    if account is not None:
        sql += " AND account = ?"
        params.append(account)
    rows: list[tuple[str, int, str, float | None]] = []
    for acct, call_id, has_recording, has_voicemail, started_at in conn.fetchall(sql, params):
        start = None if started_at is None else float(started_at)
        if has_recording:
            rows.append((acct, int(call_id), "recording", start))
        if has_voicemail:
            rows.append((acct, int(call_id), "voicemail", start))
    before = int(conn.scalar("SELECT count(*) FROM aircall_recordings"))
    with conn.transaction():
        want(conn, rows)
    return int(conn.scalar("SELECT count(*) FROM aircall_recordings")) - before
