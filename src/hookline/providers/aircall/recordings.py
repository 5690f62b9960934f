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
from hookline.store.queries import compose, load_queries

KINDS = ("recording", "voicemail")
STATES = ("pending", "running", "archived", "parked")
# The events whose call data is complete enough to archive its media (call.hungup comes too early);
# a call read by a backfill (the watchdog's, or `aircall backfill`) once it is done.
TRIGGERS = frozenset({"call.ended", "call.comm_assets_generated", "call.synced"})

_envelope = msgspec.json.Decoder(m.Envelope).decode
Q = load_queries(__package__)


def wanted_kinds(call: m.Call) -> list[str]:
    """Which media a call carries (a link, or a short link)."""
    found = []
    if call.recording or call.recording_short_url:
        found.append("recording")
    if call.voicemail or call.voicemail_short_url:
        found.append("voicemail")
    return found


def want(conn: Connection, rows: Sequence[tuple[str, int, str, float | None]]) -> None:
    """Record (account, call_id, kind, started_at) as wanted; rows already known are left as they are."""
    now = time.time()
    for account, call_id, kind, started_at in sorted(set(rows), key=lambda r: (r[0], r[1], r[2])):
        conn.execute(Q.want_recording, (account, call_id, kind, started_at, now, now, now))


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


def claim(conn: Connection, token: str, limit: int, lease: float, now: float | None = None) -> list[Claimed]:
    """Take up to `limit` due rows (pending, or running with an expired lease) under `token`.

    On PostgreSQL SKIP LOCKED gives concurrent archivers disjoint rows (the statement's override in
    queries.postgresql.sql); on SQLite it runs under the database's single write lock, as exclusive.
    """
    now = time.time() if now is None else now
    with conn.transaction():
        rows = conn.fetchall(Q.claim_recordings, (token, now + lease, now, now, limit))
    return [
        Claimed(int(r[0]), r[1], int(r[2]), r[3], None if r[4] is None else float(r[4]), int(r[5])) for r in rows
    ]


def renew(conn: Connection, token: str, lease: float) -> int:
    now = time.time()
    with conn.transaction():
        cur = conn.execute(Q.renew_recordings, (now + lease, now, token))
    return int(cur.rowcount)


def archived(conn: Connection, row_id: int, token: str, *, path: str, size: int, sha256: str) -> bool:
    """Record the file (path relative to the archive directory); False when the claim was lost."""
    now = time.time()
    with conn.transaction():
        cur = conn.execute(Q.recording_archived, (path, size, sha256, now, now, now, row_id, token))
    return bool(cur.rowcount)


def failed(conn: Connection, row_id: int, token: str, error: str, *, retry_at: float | None) -> bool:
    """Back to pending until `retry_at`, or parked when `retry_at` is None; fenced by the claim."""
    now = time.time()
    with conn.transaction():
        cur = conn.execute(
            Q.recording_failed,
            ("parked" if retry_at is None else "pending", now if retry_at is None else retry_at, error[:2000],
             now, row_id, token),
        )
    return bool(cur.rowcount)


def release(conn: Connection, token: str) -> int:
    """Hand a claim back untouched (shutdown): due at once, the attempt not counted."""
    now = time.time()
    with conn.transaction():
        cur = conn.execute(Q.release_recordings, (now, now, token))
    return int(cur.rowcount)


def park_abandoned(conn: Connection, max_attempts: int, now: float | None = None) -> int:
    """Park rows whose lease lapsed on their last attempt (the archiver died with them every time)."""
    now = time.time() if now is None else now
    with conn.transaction():
        cur = conn.execute(Q.park_abandoned_recordings, (now, now, max_attempts))
    return int(cur.rowcount)


# --- reading and operator actions ---------------------------------------------------------------

# The columns of a row as the reads below select them (queries.sql: recordings_list_fragment...).
COLUMNS = (
    "id", "account", "call_id", "kind", "started_at", "state", "run_at", "attempts", "last_error", "path",
    "size", "sha256", "archived_at", "created_at", "updated_at",
)


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
    parts = [Q.recordings_list_fragment]
    params: list[Any] = []
    for clause, value in (
        (Q.recording_state_clause, state), (Q.recording_account_clause, account), (Q.recording_before_clause, before_id)
    ):
        if value is not None:
            parts.append(clause)
            params.append(value)
    query = compose(*parts, Q.newest_recordings_clause)
    return [_row(r) for r in conn.fetchall(query, [*params, limit])]


def for_call(conn: Connection, account: str, call_id: int) -> dict[str, dict[str, Any]]:
    """The archive rows of one call, by kind."""
    rows = conn.fetchall(Q.recordings_of_call, (account, call_id))
    return {r["kind"]: r for r in map(_row, rows)}


def get(conn: Connection, row_id: int) -> dict[str, Any] | None:
    row = conn.fetchone(Q.recording, (row_id,))
    return None if row is None else _row(row)


def retry(conn: Connection, ids: Sequence[int] | None = None) -> int:
    """Queue parked rows again with a fresh attempt budget: the given ones, or every parked one (None)."""
    now = time.time()
    with conn.transaction():
        if ids is None:
            return int(conn.execute(Q.retry_parked_recordings, (now, now)).rowcount)
        return sum(int(conn.execute(Q.retry_parked_recording, (now, now, i)).rowcount) for i in ids)


def counts(conn: Connection) -> dict[str, int]:
    found = dict(conn.fetchall(Q.recording_states))
    return {s: int(found.get(s, 0)) for s in STATES}


def want_since(conn: Connection, since: float, until: float | None, account: str | None) -> int:
    """Rows for the finished calls already projected in a window (`recordings sync`); returns how many new."""
    parts = [Q.calls_with_media_fragment]
    params: list[Any] = [since]
    for clause, value in ((Q.started_until_clause, until), (Q.call_account_clause, account)):
        if value is not None:
            parts.append(clause)
            params.append(value)
    calls = conn.fetchall(compose(*parts), params)
    rows: list[tuple[str, int, str, float | None]] = []
    for acct, call_id, has_recording, has_voicemail, started_at in calls:
        start = None if started_at is None else float(started_at)
        if has_recording:
            rows.append((acct, int(call_id), "recording", start))
        if has_voicemail:
            rows.append((acct, int(call_id), "voicemail", start))
    before = int(conn.scalar(Q.count_recordings))
    with conn.transaction():
        want(conn, rows)
    return int(conn.scalar(Q.count_recordings)) - before
