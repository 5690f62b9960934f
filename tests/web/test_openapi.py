"""/api/openapi.json: valid OpenAPI, complete (no /api route missing), and true (schemathesis against a real server)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import BaseRoute, Mount, Route

from hookline.app import API_MODULES, create_app
from hookline.automations import rules
from hookline.automations.actions import registry as action_registry
from hookline.automations.rulefile import parse as parse_rules
from hookline.config import Settings
from hookline.forwarding.destinations import DestinationStore
from hookline.providers.aircall.catalog import CATALOG
from hookline.providers.aircall.tokens import TokenStore
from hookline.providers.calendly.accounts import AccountStore as CalendlyAccounts
from hookline.providers.calendly.keys import KeyStore
from hookline.providers.monday.accounts import AccountStore as MondayAccounts
from hookline.providers.registry import providers
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from hookline.testing.aircall.samples import sample_event
from hookline.testing.calendly.fake_api import FakeCalendly
from hookline.testing.monday.fake_api import FakeMonday
from hookline.web.openapi import build
from tests.providers.calendly.test_bookings_api import KEY as CALENDLY_KEY
from tests.providers.calendly.test_bookings_api import post as post_booking
from tests.support import ADMIN_TOKEN, ROOT, Server, archived_recording, free_port

TOKEN = "aircall-webhook-token-openapi-01"
AUTH = {"authorization": f"Bearer {ADMIN_TOKEN}"}
BOX = SecretBox(None)  # the server runs without HOOKLINE_SECRET_KEY
METHODS = {"get", "post", "put", "patch", "delete"}


def api_routes(routes: list[BaseRoute], prefix: str = "") -> set[tuple[str, str]]:
    """(method, path) of every route under /api, through mounts."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Mount):
            found |= api_routes(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            full = prefix + route.path
            if full == "/api" or full.startswith("/api/"):
                found |= {(m.lower(), full) for m in route.methods or () if m != "HEAD"}
    return found


def documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in doc["paths"].items() for method in item if method in METHODS}


def test_the_document_is_valid_openapi_behind_the_admin_token(db: Database, server: Server) -> None:
    with server.client() as c:
        refused = c.get("/api/openapi.json")
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    with server.admin() as c:
        r = c.get("/api/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    doc = r.json()
    validate(doc)  # raises on an invalid document
    assert doc["openapi"].startswith("3.1") and doc["security"] == [{"bearer": []}]
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "the admin token (HOOKLINE_ADMIN_TOKEN)",
    }
    # Providers contribute their own parts: the core names none of them.
    assert {"/api/calls", "/api/calls/{id}", "/api/bookings/{id}", "/api/board_items"} <= doc["paths"].keys()
    jobs = doc["paths"]["/api/jobs"]["get"]
    state = next(p for p in jobs["parameters"] if p["name"] == "state")
    assert state["schema"]["enum"] == ["queued", "running", "parked"]
    limit = next(p for p in jobs["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}
    retry = doc["paths"]["/api/deliveries/{id}/retry"]["post"]["responses"]
    assert set(retry) == {"200", "400", "401", "404", "409", "429"}  # 429: sign-in throttling
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "message"]


def test_every_api_route_is_documented(database_url: str) -> None:
    """Drift guard: a route added under /api without its OpenAPI description fails here (and vice versa)."""
    app = create_app(Settings(database_url=database_url, admin_token=ADMIN_TOKEN))
    try:
        routes = api_routes(list(app.rest.routes))  # type: ignore[attr-defined]
        assert ("get", "/api/events") in routes and ("post", "/api/jobs/retry") in routes
        doc = build((m.openapi_paths() for m in API_MODULES), app.runtime.providers)
        assert routes - documented(doc) == set(), "routes missing from /api/openapi.json"
        assert documented(doc) - routes == set(), "documented operations without a route"
        ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
        assert len(ids) == len(set(ids)) == len(routes)  # operationIds are unique
        for path, item in doc["paths"].items():
            in_path = {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}
            for method, op in item.items():
                declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
                assert declared == in_path, f"{method.upper()} {path}: path parameters {declared} != {in_path}"
    finally:
        app.runtime.db.close()


def test_every_documented_path_is_in_the_readme() -> None:
    """The README's HTTP API tables name every path of the document (and so every /api route)."""
    readme = (ROOT / "README.md").read_text()
    doc = build((m.openapi_paths() for m in API_MODULES), providers())
    assert not [path for path in doc["paths"] if f"{path}" not in readme]


def seed_recordings(db: Database, archive: Path) -> tuple[int, int]:
    """An archived recording and voicemail of a call; a parked recording of another.
    Returns (the call's id, the parked row's id)."""
    call_id, now = 990001, time.time()
    for kind in ("recording", "voicemail"):
        archived_recording(db, archive, "acme", call_id, kind)
    with db.connection() as conn, conn.transaction():
        parked = conn.scalar(
            "INSERT INTO aircall_recordings (account, call_id, kind, state, run_at, attempts, last_error, created_at,"
            " updated_at) VALUES ('acme', 990002, 'recording', 'parked', ?, 8, 'not an MP3', ?, ?) RETURNING id",
            (now, now, now),
        )
    return call_id, int(parked)


SEEDED_RULE = """
[[rules]]
name = "seeded-alert"
on = ["aircall:call.created"]

[[rules.steps]]
action = "alert"
title = "call {{ data.id }}"
"""


def seed(db: Database, server: Server) -> dict[str, list[Any]]:
    """Rows behind every operation; returns existing ids for each path with an {id}.

    Every Aircall event type once (calls, agents, contacts, numbers, teams, tags, messages, AI
    results), forwarded to a destination that refuses connections (so deliveries are retrying); a
    Calendly booking; a monday.com item; a parked job."""
    TokenStore(db).add(TOKEN, "acme")
    with db.connection() as conn, conn.transaction():
        rules.apply(conn, parse_rules(SEEDED_RULE, action_registry(providers())), prune=False, write=True)
    DestinationStore(db).add("sink", f"http://127.0.0.1:{free_port()}/hook", events=["call.*"])
    CalendlyAccounts(db, BOX).add("acme", "acme-token-0123456789", None, None)
    KeyStore(db, BOX).add("acme", CALENDLY_KEY)
    MondayAccounts(db, BOX).add("acme", "acme-monday-token-0123456789", None, None)
    now = time.time()
    booking = FakeCalendly(base_url="https://api.calendly.com").add_booking(
        "Ann", "ann@example.com", start=now + 86400, created_at=now - 60
    )
    item = FakeMonday().event("create_pulse", at=now, pulseId=111, pulseName="Task 1", groupId="topics")
    with server.client() as c:
        for name in CATALOG:
            assert c.post("/aircall/webhook", json=sample_event(name, token=TOKEN)).status_code == 200
        post_booking(c, "invitee.created", booking)
        assert c.post("/monday/webhook", json={"event": item}).status_code == 200
    with server.admin() as admin:
        deadline = time.monotonic() + 30
        while admin.get("/api/stats").json()["jobs"]["pending"] and time.monotonic() < deadline:
            time.sleep(0.05)
        listed = {key: admin.get(f"/api/{key}").json()[key] for key in ("calls", "agents", "events", "deliveries")}
        assert all(listed.values()) and admin.get("/api/bookings").json()["bookings"]
        assert admin.get("/api/board_items").json()["items"]
    event_id, other_event_id = (e["id"] for e in listed["events"][:2])
    with db.connection() as conn, conn.transaction():
        analysed = conn.scalar("SELECT call_id FROM aircall_call_intelligence WHERE call_id IS NOT NULL LIMIT 1")
        job_ids = [
            conn.scalar(
                "INSERT INTO jobs (event_id, provider, state, run_at, attempts, received_at, updated_at, last_error)"
                " VALUES (?, 'aircall', 'parked', ?, 10, ?, ?, 'ValueError') RETURNING id",
                (e, now, now, now),
            )
            for e in (event_id, other_event_id)
        ]
    assert analysed is not None
    with server.admin() as admin:
        deadline = time.monotonic() + 30
        while not admin.get("/api/alerts").json()["alerts"] and time.monotonic() < deadline:
            time.sleep(0.05)
        alert_id = admin.get("/api/alerts").json()["alerts"][0]["id"]
    return {
        "/api/rules/{name}": [{"name": "seeded-alert"}],
        "/api/rules/{name}/test": [{"name": "seeded-alert"}],
        "/api/alerts/{id}/ack": [alert_id],
        "/api/events/{id}": [event_id],
        "/api/calls/{id}": [listed["calls"][0]["id"], analysed],  # a call; AI results (maybe before their call)
        "/api/jobs/{id}": [job_ids[0]],
        "/api/jobs/{id}/retry": [job_ids[1]],  # retried, then processed: 404 after that
        "/api/deliveries/{id}/retry": [listed["deliveries"][0]["id"]],
        "/api/bookings/{id}": [booking["uri"].rsplit("/", 1)[-1]],
    }


# Not negative_data_rejection nor positive_data_acceptance: the API takes an empty value as an
# absent one (?limit= is the default page) and free-form times (?since=2026-11-23 or unix seconds)
# that a schema cannot spell exactly, so those two checks would fail on purposeful leniency.
# unsupported_method and allow_header_conformance only judge schemathesis's coverage phase, which
# these strategies do not run (tests/web/test_bad_input.py checks the 405s and their Allow header).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,  # each 2xx is sent again without the token, and with a wrong one: both must be 401
]
# Per operation and mode: about 1,700 requests, under 40 s per engine on 2 cores. Set
# HOOKLINE_TEST_OPENAPI_EXAMPLES=500 for a deeper search now and then.
EXAMPLES = int(os.environ.get("HOOKLINE_TEST_OPENAPI_EXAMPLES", "30"))


class AdminToken:
    def get(self, case: Any, ctx: Any) -> str:
        return ADMIN_TOKEN

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}  # as the scheme names it


@pytest.mark.schemathesis
def test_the_api_answers_as_documented(db: Database, start_server: Callable[..., Server], tmp_path: Path) -> None:
    """schemathesis generates valid and invalid requests for every operation of the served document,
    and valid ones for the rows that exist, so 200 answers with data are checked against the schemas.

    (Its pytest plugin, schemathesis.pytest.from_fixture, does not run under pytest 9.2, so the
    operations' Hypothesis strategies are driven here with @given, as its docs describe.)
    """
    archive = tmp_path / "recordings"
    # ignored_auth sends hundreds of wrong tokens from 127.0.0.1 and wants 401 each time: no throttling here.
    server = start_server(env={"HOOKLINE_RECORDINGS_DIR": str(archive), "HOOKLINE_AUTH_FAILURES_PER_MINUTE": "1000000"})
    known = seed(db, server)
    archived_call, parked_recording = seed_recordings(db, archive)
    with db.connection() as conn:
        archived_row = int(conn.scalar("SELECT min(id) FROM aircall_recordings WHERE state = 'archived'"))
    known |= {
        "/api/calls/{id}/recording": [archived_call],
        "/api/calls/{id}/voicemail": [archived_call],
        "/api/recordings/{id}/retry": [parked_recording],
        "/api/recordings/{id}/verify": [archived_row],  # its file is intact: ?requeue=true changes nothing
    }
    schema = schemathesis.openapi.from_url(server.url + "/api/openapi.json", headers=AUTH)
    schema.config.update(base_url=server.url)
    schema.auth()(AdminToken)  # on the cases as schemathesis auth, so ignored_auth can take it off and expect a 401
    failures: list[str] = []
    answered: dict[str, set[int]] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    # Every operation is exercised except the document itself (schemathesis skips the path it loaded).
    expected = {f"{m.upper()} {path}" for m, path in documented(server.admin().get("/api/openapi.json").json())}
    assert {op.label for op in operations} == expected - {"GET /api/openapi.json"}
    # Reads first, and the bulk retries last: they would queue again the parked rows the others look at.
    operations.sort(key=lambda op: (op.method != "get", op.path in ("/api/jobs/retry", "/api/recordings/retry")))
    for operation in operations:
        runs: list[tuple[str, Any]] = [
            (mode.value, operation.as_strategy(mode, auth_storage=schema.auth))
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
        for row_id in known.get(operation.path, ()):
            params = row_id if isinstance(row_id, dict) else {"id": row_id}
            runs.append(
                (f"id {row_id}", operation.as_strategy(auth_storage=schema.auth, path_parameters=params))
            )
        for name, strategy in runs:

            @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def check(case: Any) -> None:
                response = case.call_and_validate(checks=CHECKS)
                answered.setdefault(case.operation.label, set()).add(response.status_code)

            try:
                check()
            except Unsatisfiable:
                # No parameters, or only free strings: there is no invalid request to send.
                if name != GenerationMode.NEGATIVE.value:
                    failures.append(f"{operation.label}: no valid request could be generated")
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis reports a FailureGroup
                failures.append(f"{operation.label} ({name}): {exc}")
    assert not failures, "\n\n".join(failures)
    never_ok = sorted(label for label in expected - {"GET /api/openapi.json"} if 200 not in answered.get(label, ()))
    assert not never_ok, f"operations never answered 200, so their schemas went unchecked: {never_ok}"
    assert "unhandled error" not in server.log()


def struct_answers() -> dict[tuple[str, str], Any]:
    """(method, path) -> what the module's description names as its 200 JSON answer, before build()."""
    parts = [m.openapi_paths() for m in API_MODULES] + [provider.openapi_paths() for provider in providers()]
    return {
        (method, path): op["responses"]["200"]["content"]["application/json"]["schema"]
        for part in parts
        for path, item in part.items()
        for method, op in item.items()
        if "application/json" in op["responses"]["200"]["content"]
    }


def test_every_answer_is_a_struct_component() -> None:
    """One definition per shape: each JSON 200 answer is a Struct, served as a $ref to its component."""
    doc = build((m.openapi_paths() for m in API_MODULES), providers())
    answers = struct_answers()
    files = {("get", f"/api/calls/{{id}}/{kind}") for kind in ("recording", "voicemail")}  # audio/mpeg
    assert answers.keys() == documented(doc) - files - {("get", "/api/openapi.json")}
    for (method, path), shape in answers.items():
        assert isinstance(shape, type) and issubclass(shape, msgspec.Struct), f"{method} {path}: {shape!r}"
        schema = doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{shape.__name__}"}
        component = doc["components"]["schemas"][shape.__name__]
        assert component["type"] == "object" and component["required"]
    # The error responses share the Error Struct's component too.
    assert doc["components"]["responses"]["NotFound"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_served_rows_decode_as_their_structs(db: Database, server: Server) -> None:
    """Every GET answers 200 with a body its Struct accepts (msgspec.convert, strict), rows in every table."""
    known = seed(db, server)
    checked = set()
    with server.admin() as admin:
        for (method, path), shape in struct_answers().items():
            if method != "get" or path == "/api/rules/{name}/test":
                continue
            ids = known.get(path, [{}])
            for row_id in ids:
                params = row_id if isinstance(row_id, dict) else {"id": row_id}
                r = admin.get(path.format(**params))
                assert r.status_code == 200, f"{path} {params}: {r.status_code} {r.text}"
                msgspec.convert(r.json(), shape)  # raises on a missing field or a wrong type
            checked.add(path)
        tested = admin.get("/api/rules/seeded-alert/test", params={"since": "0"})
        assert tested.status_code == 200
        msgspec.convert(tested.json(), struct_answers()[("get", "/api/rules/{name}/test")])
        calls = admin.get("/api/calls").json()["calls"]
        assert calls and isinstance(calls[0]["has_recording"], bool)  # SQLite's 0/1 arrive as booleans
        detail = admin.get(f"/api/calls/{calls[0]['id']}").json()
        assert isinstance(detail["data"], dict) and detail["known"] is True  # JSON text decoded once
    assert {"/api/calls", "/api/calls/{id}", "/api/events/{id}", "/api/bookings", "/api/board_items"} <= checked
