"""The recordings archive over HTTP: GET /api/calls/{id}/recording and /voicemail serve the archived
file (audio/mpeg, HTTP Range through Starlette's FileResponse); GET /api/recordings lists the archive
rows (?state=parked for the failures); POST /api/recordings/{id}/retry and /api/recordings/retry
queue parked ones again; POST /api/recordings/{id}/verify checks one archived file against its row
(recordings_verify.py), and with ?requeue=true queues it for download again when it is bad.
/api/calls/{id} shows the archive through `archive_fields`.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from hookline.providers.aircall import recordings
from hookline.providers.aircall import recordings_verify as rv
from hookline.providers.aircall.recordings_verify import resolve
from hookline.providers.aircall.settings import load_recordings_settings
from hookline.runtime import Runtime
from hookline.web.params import MAX_ID, BadQuery, bool_param, choice_param, id_param, int_param, str_param
from hookline.web.responses import JSON, error

_DETAIL = ("state", "path", "size", "sha256", "archived_at", "attempts", "last_error")


def archive_fields(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`recording_archived`, `voicemail_archived` and `archive: {kind: {path, size, sha256, ...} | null}`."""
    out: dict[str, Any] = {f"{kind}_archived": rows.get(kind, {}).get("state") == "archived"
                           for kind in recordings.KINDS}
    out["archive"] = {kind: ({k: rows[kind][k] for k in _DETAIL} if kind in rows else None)
                      for kind in recordings.KINDS}
    return out


def routes(runtime: Runtime) -> list[BaseRoute]:  # noqa: C901
    db = runtime.db
    root = load_recordings_settings().dir

    def media(kind: str) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                call_id = id_param(request.path_params["id"], "call")
            except BadQuery as exc:
                return error(400, "invalid_id", str(exc))
            account = request.query_params.get("account") or None

            def run() -> list[dict[str, Any]]:
                with db.connection() as conn:
                    sql = "SELECT account, state, path FROM aircall_recordings WHERE call_id = ? AND kind = ?"
                    params: list[Any] = [call_id, kind]
                    if account:
                        sql += " AND account = ?"
                        params.append(account)
                    rows = conn.fetchall(sql, params)
                return [{"account": a, "state": s, "path": p} for a, s, p in rows]

            rows = await run_in_threadpool(run)
            if len(rows) > 1:
                return error(409, "ambiguous", f"call {call_id} exists in several accounts: add ?account=")
            row = rows[0] if rows else None
            if row is None or row["state"] != "archived" or root is None:
                state = "no archive configured (HOOKLINE_RECORDINGS_DIR)" if root is None else (
                    f"its state is {row['state']}" if row else "none was recorded"
                )
                return error(404, "not_archived", f"call {call_id} has no archived {kind}: {state}")
            path = await run_in_threadpool(resolve, root, row["path"])
            if path is None:
                return error(404, "file_missing", f"the archived {kind} of call {call_id} is missing from disk")
            return FileResponse(path, media_type="audio/mpeg", filename=path.name)

        return Route(f"/api/calls/{{id}}/{kind}", endpoint, methods=["GET", "HEAD"])

    async def listing(request: Request) -> JSON:
        q = request.query_params
        try:
            state = choice_param(q, "state", recordings.STATES)
            limit = int_param(q, "limit", 100, 1, 500) or 100
            cursor = int_param(q, "cursor", None, 1, MAX_ID)
        except BadQuery as exc:
            return error(400, "invalid_query", str(exc))
        account = str_param(q, "account")

        def run() -> tuple[list[dict[str, Any]], dict[str, int]]:
            with db.connection() as conn:
                rows = recordings.list_recordings(conn, state=state, account=account, limit=limit + 1,
                                                  before_id=cursor)
                return rows, recordings.counts(conn)

        rows, counts = await run_in_threadpool(run)
        more = len(rows) > limit
        rows = rows[:limit]
        return JSON({"recordings": rows, "counts": counts, "next_cursor": str(rows[-1]["id"]) if more else None})

    async def retry_one(request: Request) -> JSON:
        try:
            row_id = id_param(request.path_params["id"], "recording")
        except BadQuery as exc:
            return error(400, "invalid_id", str(exc))

        def run() -> tuple[dict[str, Any] | None, int]:
            with db.connection() as conn:
                return recordings.get(conn, row_id), recordings.retry(conn, [row_id])

        row, count = await run_in_threadpool(run)
        if row is None:
            return error(404, "not_found", f"no recording {row_id}")
        if not count:
            return error(409, "not_parked", f"recording {row_id} is {row['state']}, not parked")
        return JSON({"retried": count})

    async def retry_all(request: Request) -> JSON:
        def run() -> int:
            with db.connection() as conn:
                return recordings.retry(conn)

        return JSON({"retried": await run_in_threadpool(run)})

    async def verify_one(request: Request) -> JSON:
        try:
            row_id = id_param(request.path_params["id"], "recording")
        except BadQuery as exc:
            return error(400, "invalid_id", str(exc))
        try:
            requeue = bool_param(request.query_params, "requeue") or False
        except BadQuery as exc:
            return error(400, "invalid_query", str(exc))
        if root is None:
            return error(409, "no_archive", "no archive configured (HOOKLINE_RECORDINGS_DIR)")

        def run() -> JSON:
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
            return JSON({
                "id": row_id, "account": row[1], "call_id": int(row[2]), "kind": row[3], "path": row[4],
                "result": "ok" if problem is None else problem.problem,
                "detail": None if problem is None else problem.detail, "requeued": requeued,
            })

        return await run_in_threadpool(run)

    return [
        media("recording"),
        media("voicemail"),
        Route("/api/recordings", listing),
        Route("/api/recordings/retry", retry_all, methods=["POST"]),
        Route("/api/recordings/{id}/retry", retry_one, methods=["POST"]),
        Route("/api/recordings/{id}/verify", verify_one, methods=["POST"]),
    ]
