"""GET /api/stats, GET /api/jobs, GET /api/jobs/{id}, POST /api/jobs/{id}/retry, POST /api/jobs/retry."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from hookline.pipeline import jobs
from hookline.runtime import Runtime
from hookline.store.engine import Connection
from hookline.timeparse import iso
from hookline.web import openapi_parts as p
from hookline.web.params import MAX_ID, BadQuery, choice_param, id_param, int_param
from hookline.web.reads import read, runtime_of
from hookline.web.responses import JSON, error

MAX_LIMIT = 500


def _shown(job: dict[str, Any]) -> dict[str, Any]:
    # For a running job run_at is its lease's end; say so in the field name people look for.
    job["lease_until"] = job["run_at"] if job["state"] == "running" else None
    job["run_at_iso"] = iso(job["run_at"])
    job["received_at_iso"] = iso(job["received_at"])
    return job


async def stats(request: Request) -> JSON:
    s = await read(request, jobs.stats)
    return JSON(
        {
            "events": {"received": s.received, "duplicates": s.duplicates},
            "jobs": {
                "processed": s.processed,
                "pending": s.pending,
                "running": s.running,
                "parked": s.parked,
            },
            "lag_seconds": round(s.lag_seconds(time.time()), 3),
            "oldest_pending_received_at": s.oldest_pending_received_at,
        }
    )


async def list_jobs(request: Request) -> JSON:
    q = request.query_params
    try:
        state = choice_param(q, "state", jobs.STATES)
        limit = int_param(q, "limit", 100, 1, MAX_LIMIT) or 100
        cursor = int_param(q, "cursor", None, 1, MAX_ID)
    except BadQuery as exc:
        return error(400, "invalid_query", str(exc))
    rows = await read(request, jobs.list_jobs, state, limit + 1, cursor)
    more = len(rows) > limit
    rows = rows[:limit]
    return JSON({"jobs": [_shown(r) for r in rows], "next_cursor": str(rows[-1]["id"]) if more else None})


def _job_id(request: Request) -> int:
    return id_param(request.path_params["id"], "job")


async def get_job(request: Request) -> JSON:
    try:
        job_id = _job_id(request)
    except BadQuery as exc:
        return error(400, "invalid_id", str(exc))
    job = await read(request, jobs.get_job, job_id)
    if job is None:
        return error(404, "not_found", f"no job {job_id}")
    return JSON(_shown(job))


def _retry(conn: Connection, ids: list[int] | None) -> int:
    n = jobs.retry(conn, ids)
    if n:
        jobs.notify(conn)
    return n


async def _retried(request: Request, ids: list[int] | None) -> JSON:
    n = await read(request, _retry, ids)
    runtime_of(request).doorbell.ring()
    return JSON({"retried": n})


async def retry_job(request: Request) -> JSON:
    try:
        job_id = _job_id(request)
    except BadQuery as exc:
        return error(400, "invalid_id", str(exc))
    job = await read(request, jobs.get_job, job_id)
    if job is None:
        return error(404, "not_found", f"no job {job_id}")
    if job["state"] != "parked":
        return error(409, "not_parked", f"job {job_id} is {job['state']}, only parked jobs are retried")
    return await _retried(request, [job_id])


async def retry_parked(request: Request) -> JSON:
    return await _retried(request, None)


ROUTES = [
    Route("/api/stats", stats),
    Route("/api/jobs", list_jobs),
    Route("/api/jobs/retry", retry_parked, methods=["POST"]),
    Route("/api/jobs/{id}", get_job),
    Route("/api/jobs/{id}/retry", retry_job, methods=["POST"]),
]


def routes(runtime: Runtime) -> list[Route]:
    return ROUTES


_COUNT = {"type": "integer", "minimum": 0}
_JOB = p.obj(
    {
        "id": p.INT,
        "event_id": p.INT,
        "provider": p.STR,
        "state": {"type": "string", "enum": list(jobs.STATES)},
        "run_at": {**p.UNIX, "description": "queued: not before; running: the lease's end"},
        "attempts": _COUNT,
        "claim": p.nullable(p.STR),
        "received_at": p.UNIX,
        "last_error": p.nullable(p.STR),
        "updated_at": p.UNIX,
        "lease_until": p.nullable(p.UNIX),
        "run_at_iso": p.ISO,
        "received_at_iso": p.ISO,
    }
)
_RETRIED = p.obj({"retried": _COUNT})


def openapi_paths() -> p.Paths:
    job_id = p.path("id", p.ID, "the job's id")
    return {
        "/api/stats": {
            "get": p.operation(
                "Events received and the pipeline's progress",
                "jobs",
                p.obj(
                    {
                        "events": p.obj({"received": _COUNT, "duplicates": _COUNT}),
                        "jobs": p.obj({"processed": _COUNT, "pending": _COUNT, "running": _COUNT, "parked": _COUNT}),
                        "lag_seconds": {"type": "number", "minimum": 0},
                        "oldest_pending_received_at": p.nullable(p.UNIX),
                    }
                ),
            )
        },
        "/api/jobs": {
            "get": p.operation(
                "Jobs, newest first",
                "jobs",
                p.page("jobs", _JOB),
                (p.query("state", {"type": "string", "enum": list(jobs.STATES)}, "only jobs in this state"),
                 p.limit(MAX_LIMIT), p.ID_CURSOR),
                errors=(400,),
            )
        },
        "/api/jobs/retry": {"post": p.operation("Queue every parked job again", "jobs", _RETRIED)},
        "/api/jobs/{id}": {"get": p.operation("One job", "jobs", _JOB, (job_id,), errors=(400, 404))},
        "/api/jobs/{id}/retry": {
            "post": p.operation("Queue a parked job again", "jobs", _RETRIED, (job_id,), errors=(400, 404, 409))
        },
    }
