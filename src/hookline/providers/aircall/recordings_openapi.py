"""The OpenAPI description of recordings_api's routes, and of the archive fields of /api/calls/{id}."""

from __future__ import annotations

from hookline.providers.aircall.recordings import KINDS, STATES
from hookline.web import openapi_parts as p

_ROW = p.obj(
    {
        "id": p.INT,
        "account": p.STR,
        "call_id": p.INT,
        "kind": {"type": "string", "enum": list(KINDS)},
        "started_at": p.nullable(p.UNIX),
        "state": {"type": "string", "enum": list(STATES)},
        "run_at": {**p.UNIX, "description": "not before: the end of a backoff or of a lease"},
        "attempts": p.INT,
        "last_error": p.nullable(p.STR),
        "path": {**p.nullable(p.STR), "description": "relative to HOOKLINE_RECORDINGS_DIR"},
        "size": p.nullable(p.INT),
        "sha256": p.nullable(p.STR),
        "archived_at": p.nullable(p.UNIX),
        "created_at": p.UNIX,
        "updated_at": p.UNIX,
    }
)
_DETAIL = p.obj(
    {
        "state": {"type": "string", "enum": list(STATES)},
        "path": p.nullable(p.STR),
        "size": p.nullable(p.INT),
        "sha256": p.nullable(p.STR),
        "archived_at": p.nullable(p.UNIX),
        "attempts": p.INT,
        "last_error": p.nullable(p.STR),
    }
)
ARCHIVE_FIELDS: dict[str, p.Schema] = {
    **{f"{kind}_archived": {**p.BOOL, "description": f"the {kind} is on disk: GET /api/calls/{{id}}/{kind}"}
       for kind in KINDS},
    "archive": p.obj({kind: p.nullable(_DETAIL) for kind in KINDS}),
}  # fmt: skip
_RETRIED = p.obj({"retried": p.INT})


def _media(kind: str) -> dict[str, object]:
    op = p.operation(
        f"The call's archived {kind} (MP3)",
        "aircall",
        {},
        (p.path("id", p.ID, "the Aircall call id"), p.query("account", p.STR, "the account, when ids collide")),
        errors=(400, 404, 409),
        description="Supports HTTP Range (206). 404 `not_archived` or `file_missing`; 409 when the id exists in"
        " several accounts and `account` is not given.",
    )
    op["responses"]["200"] = {
        "description": "the file",
        "content": {"audio/mpeg": {"schema": {"type": "string", "contentMediaType": "audio/mpeg"}}},
    }
    return op


def openapi_paths() -> p.Paths:
    paths: p.Paths = {f"/api/calls/{{id}}/{kind}": {"get": _media(kind)} for kind in KINDS}
    paths["/api/recordings"] = {
        "get": p.operation(
            "The recordings archive, newest first, with counts by state",
            "aircall",
            p.obj(
                {
                    "recordings": p.array(_ROW),
                    "counts": p.obj({state: p.INT for state in STATES}),
                    "next_cursor": p.nullable(p.STR),
                }
            ),
            (
                p.query("state", {"type": "string", "enum": list(STATES)}, "only rows in this state"),
                p.ACCOUNT,
                p.limit(),
                p.ID_CURSOR,
            ),
            errors=(400,),
        )
    }
    paths["/api/recordings/retry"] = {
        "post": p.operation("Queue every parked recording again", "aircall", _RETRIED)
    }
    paths["/api/recordings/{id}/retry"] = {
        "post": p.operation(
            "Queue one parked recording again",
            "aircall",
            _RETRIED,
            (p.path("id", p.ID, "the archive row's id"),),
            errors=(400, 404, 409),
            description="409 when the row is not parked.",
        )
    }
    paths["/api/recordings/{id}/verify"] = {
        "post": p.operation(
            "Check one archived file against its row (exists, size, sha256)",
            "aircall",
            p.obj(
                {
                    "id": p.INT,
                    "account": p.STR,
                    "call_id": p.INT,
                    "kind": {"type": "string", "enum": list(KINDS)},
                    "path": p.STR,
                    "result": {"type": "string", "enum": ["ok", "missing", "damaged"]},
                    "detail": {**p.nullable(p.STR), "description": "what is wrong, when something is"},
                    "requeued": {**p.BOOL, "description": "queued for the archiver to download again"},
                }
            ),
            (
                p.path("id", p.ID, "the archive row's id"),
                p.query("requeue", p.BOOL, "when missing or damaged, queue it for download again"),
            ),
            errors=(400, 404, 409),
            description="409 `not_archived` when the row has no file yet, `no_archive` without"
            " HOOKLINE_RECORDINGS_DIR, `archive_unavailable` when that is not a directory. The file is never"
            " deleted; a requeued one is replaced by the archiver's next good download.",
        )
    }
    return paths
