"""The OpenAPI description of recordings_api's routes (their answers: the Structs of shapes.py)."""

from __future__ import annotations

from hookline.providers.aircall import shapes
from hookline.providers.aircall.recordings import KINDS, STATES
from hookline.web import openapi_parts as p
from hookline.web.shapes import Retried


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
            shapes.RecordingsPage,
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
        "post": p.operation("Queue every parked recording again", "aircall", Retried)
    }
    paths["/api/recordings/{id}/retry"] = {
        "post": p.operation(
            "Queue one parked recording again",
            "aircall",
            Retried,
            (p.path("id", p.ID, "the archive row's id"),),
            errors=(400, 404, 409),
            description="409 when the row is not parked.",
        )
    }
    paths["/api/recordings/{id}/verify"] = {
        "post": p.operation(
            "Check one archived file against its row (exists, size, sha256)",
            "aircall",
            shapes.Verified,
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
