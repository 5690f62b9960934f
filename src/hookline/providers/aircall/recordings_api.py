"""The recordings archive over HTTP: GET /api/calls/{id}/recording and /voicemail serve the archived
file (audio/mpeg, HTTP Range through Starlette's FileResponse); GET /api/recordings lists the archive
rows (?state=parked for the failures); POST /api/recordings/{id}/retry and /api/recordings/retry
queue parked ones again; POST /api/recordings/{id}/verify checks one archived file against its row
(recordings_verify.py), and with ?requeue=true queues it for download again when it is bad.
/api/calls/{id} shows the archive through `archive_fields`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from hookline.providers.aircall import recordings, shapes
from hookline.providers.aircall import recordings_verify as rv
from hookline.providers.aircall.recordings_verify import resolve
from hookline.providers.aircall.settings import load_recordings_settings
from hookline.runtime import Runtime
from hookline.store.engine import Connection, Database
from hookline.store.queries import load_queries
from hookline.web.paging import id_page, page_params
from hookline.web.params import BadQuery, bool_param, choice_param, id_param, str_param
from hookline.web.reads import in_thread, read, runtime_of
from hookline.web.responses import JSON, error
from hookline.web.shapes import Retried, from_rows

Q = load_queries(__package__)

_DETAIL = ("state", "path", "size", "sha256", "archived_at", "attempts", "last_error")


def archive_fields(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`recording_archived`, `voicemail_archived` and `archive: {kind: {path, size, sha256, ...} | null}`."""
    out: dict[str, Any] = {f"{kind}_archived": rows.get(kind, {}).get("state") == "archived"
                           for kind in recordings.KINDS}
    out["archive"] = {kind: ({k: rows[kind][k] for k in _DETAIL} if kind in rows else None)
                      for kind in recordings.KINDS}
    return out


_ROOT = "aircall.recordings_dir"  # runtime.state: the archive's folder, read once when the routes are made


def _archive_root(request: Request) -> Path | None:
    root: Path | None = runtime_of(request).state[_ROOT]
    return root


def _media_rows(conn: Connection, call_id: int, kind: str, account: str | None) -> list[dict[str, Any]]:
    if account:
        rows = conn.fetchall(Q.recordings_api_media_in_account, (call_id, kind, account))
    else:
        rows = conn.fetchall(Q.recordings_api_media, (call_id, kind))
    return [{"account": a, "state": s, "path": p} for a, s, p in rows]


class Media:
    """GET/HEAD /api/calls/{id}/<kind>: the archived file of one kind (recording or voicemail)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.answer(Request(scope, receive))
        await response(scope, receive, send)

    async def answer(self, request: Request) -> Response:
        kind, root = self.kind, _archive_root(request)
        try:
            call_id = id_param(request.path_params["id"], "call")
        except BadQuery as exc:
            return error(400, "invalid_id", str(exc))
        rows = await read(request, _media_rows, call_id, kind, request.query_params.get("account") or None)
        if len(rows) > 1:
            return error(409, "ambiguous", f"call {call_id} exists in several accounts: add ?account=")
        row = rows[0] if rows else None
        if row is None or row["state"] != "archived" or root is None:
            state = "no archive configured (HOOKLINE_RECORDINGS_DIR)" if root is None else (
                f"its state is {row['state']}" if row else "none was recorded"
            )
            return error(404, "not_archived", f"call {call_id} has no archived {kind}: {state}")
        path = await in_thread(resolve, root, row["path"])
        if path is None:
            return error(404, "file_missing", f"the archived {kind} of call {call_id} is missing from disk")
        return FileResponse(path, media_type="audio/mpeg", filename=path.name)


def _listing(
    conn: Connection, state: str | None, account: str | None, limit: int, cursor: int | None
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    rows = recordings.list_recordings(conn, state=state, account=account, limit=limit, before_id=cursor)
    return rows, recordings.counts(conn)


async def listing(request: Request) -> JSON:
    q = request.query_params
    try:
        state = choice_param(q, "state", recordings.STATES)
        limit, cursor = page_params(q)
    except BadQuery as exc:
        return error(400, "invalid_query", str(exc))
    rows, counts = await read(request, _listing, state, str_param(q, "account"), limit + 1, cursor)
    page, next_cursor = id_page(rows, limit)
    return JSON(shapes.RecordingsPage(from_rows(shapes.Recording, page), shapes.RecordingCounts(**counts), next_cursor))


def _retry_one(conn: Connection, row_id: int) -> tuple[dict[str, Any] | None, int]:
    return recordings.get(conn, row_id), recordings.retry(conn, [row_id])


async def retry_one(request: Request) -> JSON:
    try:
        row_id = id_param(request.path_params["id"], "recording")
    except BadQuery as exc:
        return error(400, "invalid_id", str(exc))
    row, count = await read(request, _retry_one, row_id)
    if row is None:
        return error(404, "not_found", f"no recording {row_id}")
    if not count:
        return error(409, "not_parked", f"recording {row_id} is {row['state']}, not parked")
    return JSON(Retried(count))


async def retry_all(request: Request) -> JSON:
    return JSON(Retried(await read(request, recordings.retry)))


def _verify(db: Database, root: Path, row_id: int, requeue: bool) -> JSON:
    # An unmounted disk would make every file look missing: refuse rather than requeue.
    if not root.is_dir():
        return error(409, "archive_unavailable", "HOOKLINE_RECORDINGS_DIR is not a directory (unmounted?)")
    with db.connection() as conn:
        found = rv.archived_row(conn, row_id)
    if found is None:
        return error(404, "not_found", f"no recording {row_id}")
    state, row = found
    if state != "archived":
        return error(409, "not_archived", f"recording {row_id} is {state}: there is no file to check yet")
    problem = rv.check_row(root, row)  # hashes the file: in this worker thread, not the event loop
    requeued = False
    if problem is not None and requeue:
        with db.connection() as conn:
            requeued = rv.requeue(conn, [problem]) == 1
    return JSON(shapes.Verified(
        id=row_id, account=row[1], call_id=int(row[2]), kind=row[3], path=row[4],
        result="ok" if problem is None else problem.problem,
        detail=None if problem is None else problem.detail, requeued=requeued,
    ))


async def verify_one(request: Request) -> JSON:
    try:
        row_id = id_param(request.path_params["id"], "recording")
    except BadQuery as exc:
        return error(400, "invalid_id", str(exc))
    try:
        requeue = bool_param(request.query_params, "requeue") or False
    except BadQuery as exc:
        return error(400, "invalid_query", str(exc))
    root = _archive_root(request)
    if root is None:
        return error(409, "no_archive", "no archive configured (HOOKLINE_RECORDINGS_DIR)")
    return await in_thread(_verify, runtime_of(request).db, root, row_id, requeue)


ROUTES: list[BaseRoute] = [
    Route("/api/calls/{id}/recording", Media("recording"), methods=["GET", "HEAD"]),
    Route("/api/calls/{id}/voicemail", Media("voicemail"), methods=["GET", "HEAD"]),
    Route("/api/recordings", listing),
    Route("/api/recordings/retry", retry_all, methods=["POST"]),
    Route("/api/recordings/{id}/retry", retry_one, methods=["POST"]),
    Route("/api/recordings/{id}/verify", verify_one, methods=["POST"]),
]


def routes(runtime: Runtime) -> list[BaseRoute]:
    runtime.state[_ROOT] = load_recordings_settings().dir
    return ROUTES
