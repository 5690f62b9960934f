"""/api/openapi.json: valid OpenAPI, complete (no /api route missing), and true (schemathesis against a real server)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import BaseRoute, Mount, Route

from hookline.app import API_MODULES, create_app
from hookline.config import Settings
from hookline.forwarding.destinations import DestinationStore
from hookline.providers.aircall.catalog import CATALOG
from hookline.providers.aircall.samples import sample_event
from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from hookline.web.openapi import build
from tests.support import ADMIN_TOKEN, Server, free_port

TOKEN = "aircall-webhook-token-openapi-01"
AUTH = {"authorization": f"Bearer {ADMIN_TOKEN}"}
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
    assert set(retry) == {"200", "400", "401", "404", "409"}
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
        for path, item in doc["paths"].items():
            in_path = {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}
            for method, op in item.items():
                declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
                assert declared == in_path, f"{method.upper()} {path}: path parameters {declared} != {in_path}"
    finally:
        app.runtime.db.close()


def seed(db: Database, server: Server) -> None:
    """Every Aircall event type once (calls, agents, contacts, numbers, teams, tags, messages, AI results),
    forwarded to a destination that refuses connections (so deliveries are retrying), then projected."""
    TokenStore(db).add(TOKEN, "acme")
    DestinationStore(db).add("sink", f"http://127.0.0.1:{free_port()}/hook", events=["call.*"])
    with server.client() as c:
        for name in CATALOG:
            assert c.post("/aircall/webhook", json=sample_event(name, token=TOKEN)).status_code == 200
    with server.admin() as admin:
        deadline = time.monotonic() + 30
        while admin.get("/api/stats").json()["jobs"]["pending"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert admin.get("/api/calls").json()["calls"] and admin.get("/api/agents").json()["agents"]
        assert admin.get("/api/deliveries").json()["deliveries"]


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 30  # per operation and generation mode: about 1,500 requests, well under a minute per engine


def test_the_api_answers_as_documented(db: Database, start_server: Callable[..., Server]) -> None:
    """schemathesis generates valid and invalid requests for every operation of the served document.

    (Its pytest plugin, schemathesis.pytest.from_fixture, does not run under pytest 9.2, so the
    operations' Hypothesis strategies are driven here with @given, as its docs describe.)
    """
    server = start_server()
    seed(db, server)
    schema = schemathesis.openapi.from_url(server.url + "/api/openapi.json", headers=AUTH)
    schema.config.update(base_url=server.url, headers=AUTH)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    # Every operation is exercised except the document itself (schemathesis skips the path it loaded).
    expected = {f"{m.upper()} {path}" for m, path in documented(server.admin().get("/api/openapi.json").json())}
    assert {op.label for op in operations} == expected - {"GET /api/openapi.json"}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(mode))
            def check(case: Any) -> None:
                case.call_and_validate(headers=AUTH, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                # No parameters, or only free strings: there is no invalid request to send.
                if mode is GenerationMode.POSITIVE:
                    failures.append(f"{operation.label}: no valid request could be generated")
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis reports a FailureGroup
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    assert "unhandled error" not in server.log()
