"""GET /api/stats, GET /api/jobs, GET /api/jobs/{id}, POST /api/jobs/{id}/retry, POST /api/jobs/retry."""

from __future__ import annotations

import time
from typing import Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.routing import Route

from hookline.pipeline import jobs
from hookline.runtime import Runtime
from hookline.store.engine import Connection
from hookline.timeparse import iso
from hookline.web import openapi_parts as p
from hookline.web.paging import MAX_LIMIT, id_page, page_params
from hookline.web.params import BadQuery, choice_param, id_param
from hookline.web.reads import account_of, read, runtime_of
from hookline.web.responses import JSON, error
from hookline.web.shapes import Count, Iso, Retried, Unix, from_row, from_rows, page_shape

_STATE = Annotated[str, msgspec.Meta(extra_json_schema={"enum": list(jobs.STATES)})]


class Job(msgspec.Struct):
    """A job: one event for the provider's handlers."""

    id: int
    event_id: int
    provider: str
    state: _STATE
    run_at: Annotated[Unix, msgspec.Meta(description="queued: not before; running: the lease's end")]
    attempts: Count
    claim: str | None
    received_at: Unix
    last_error: str | None
    updated_at: Unix
    lease_until: Unix | None
    run_at_iso: Iso
    received_at_iso: Iso


JobsPage = page_shape("JobsPage", "jobs", Job)


class EventCounts(msgspec.Struct):
    received: Count
    duplicates: Count


class JobCounts(msgspec.Struct):
    processed: Count
    pending: Count
    running: Count
    parked: Count


class Stats(msgspec.Struct):
    """Events received and the pipeline's progress."""

    events: EventCounts
    jobs: JobCounts
    lag_seconds: Annotated[float, msgspec.Meta(ge=0)]
    oldest_pending_received_at: Unix | None


def _shown(job: dict[str, Any]) -> dict[str, Any]:
    # For a running job run_at is its lease's end; say so in the field name people look for.
    job["lease_until"] = job["run_at"] if job["state"] == "running" else None
    job["run_at_iso"] = iso(job["run_at"])
    job["received_at_iso"] = iso(job["received_at"])
    return job


async def stats(request: Request) -> JSON:
    s = await read(request, jobs.stats, account_of(request))
    return JSON(
        Stats(
            EventCounts(s.received, s.duplicates),
            JobCounts(s.processed, s.pending, s.running, s.parked),
            round(s.lag_seconds(time.time()), 3),
            s.oldest_pending_received_at,
        )
    )


async def list_jobs(request: Request) -> JSON:
    q = request.query_params
    try:
        state = choice_param(q, "state", jobs.STATES)
        limit, cursor = page_params(q)
    except BadQuery as exc:
        return error(400, "invalid_query", str(exc))
    found = await read(request, jobs.list_jobs, state, limit + 1, cursor, account_of(request))
    rows, next_cursor = id_page(found, limit)
    return JSON(JobsPage(from_rows(Job, map(_shown, rows)), next_cursor))


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
    return JSON(from_row(Job, _shown(job)))


def _retry(conn: Connection, ids: list[int] | None) -> int:
    n = jobs.retry(conn, ids)
    if n:
        jobs.notify(conn)
    return n


async def _retried(request: Request, ids: list[int] | None) -> JSON:
    n = await read(request, _retry, ids)
    runtime_of(request).doorbell.ring()
    return JSON(Retried(n))


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


def openapi_paths() -> p.Paths:
    job_id = p.path("id", p.ID, "the job's id")
    return {
        "/api/stats": {
            "get": p.operation(
                "Events received and the pipeline's progress",
                "jobs",
                Stats,
                (p.ACCOUNT,),
                errors=(400,),
                description="With `account`, that account's events are counted (through their index: the "
                "time grows with that account's events); without it the totals are kept as events arrive.",
            )
        },
        "/api/jobs": {
            "get": p.operation(
                "Jobs, newest first",
                "jobs",
                JobsPage,
                (p.query("state", {"type": "string", "enum": list(jobs.STATES)}, "only jobs in this state"),
                 p.ACCOUNT, p.limit(MAX_LIMIT), p.ID_CURSOR),
                errors=(400,),
            )
        },
        "/api/jobs/retry": {"post": p.operation("Queue every parked job again", "jobs", Retried)},
        "/api/jobs/{id}": {"get": p.operation("One job", "jobs", Job, (job_id,), errors=(400, 404))},
        "/api/jobs/{id}/retry": {
            "post": p.operation("Queue a parked job again", "jobs", Retried, (job_id,), errors=(400, 404, 409))
        },
    }
