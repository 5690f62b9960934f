"""A call's nested objects stored once (nested.py, migration 0009), on both engines: calls share their
user, number and contact parts, and every reader (the API's call and list, exports) sees the call as
Aircall sent it; rows stored whole before 0009 read the same."""

from __future__ import annotations

import json
import random
from typing import Any

import msgspec

from hookline.providers.aircall import models as m
from hookline.providers.aircall import shapes
from hookline.providers.aircall.nested import NESTED
from hookline.providers.aircall.projections import AircallProjections
from hookline.providers.aircall.projections_api import CALLS, call_record, composed
from hookline.providers.registry import providers
from hookline.retention.export import stream_rows
from hookline.retention.tables import export_tables
from hookline.store.engine import Database
from hookline.testing.aircall.samples import make_call, make_contact, make_number, make_user
from tests.providers.aircall.callcenter import envelope, stored

STARTED = 1_750_000_000


def calls_of_one_agent(db: Database) -> list[dict[str, Any]]:
    """Three finished calls: one agent, one line, two of them with the same customer."""
    rng = random.Random(16)
    user, number, contact = make_user(rng, 1, v2=True), make_number(rng, 2), make_contact(rng, 3)
    bodies = [
        envelope("call.ended", STARTED + 600 * i, make_call(
            rng, 100 + i, user=user, number=number, contact=contact if i < 2 else None, status="done",
            started_at=STARTED + 600 * i, answered=True, recording=True))
        for i in range(3)
    ]
    conn = db.connect()
    try:
        with conn.transaction():
            AircallProjections().apply(conn, [stored(i + 1, b) for i, b in enumerate(bodies)])
    finally:
        conn.close()
    return [b["data"] for b in bodies]


def listed(data: dict[str, Any]) -> dict[str, Any]:
    """What the projection's columns held before 0009: the model's view of each nested object."""
    call = m.decode_data("call.ended", msgspec.json.encode(data))
    return {name: json.loads(msgspec.json.encode(getattr(call, name))) for name in NESTED}


def read_back(db: Database, sent: list[dict[str, Any]]) -> None:
    with db.connection() as conn:
        for data in sent:
            call = call_record(conn, data["id"], None)
            assert isinstance(call, dict)
            assert call["data"] == data
            if db.dialect == "sqlite":  # and Aircall's key order (PostgreSQL's jsonb keeps none)
                assert list(call["data"]) == list(data)
            assert {k: call[k] for k in NESTED} == listed(data)
        rows = composed(conn, CALLS, " ORDER BY id DESC LIMIT ?", [10], shapes.Call)
    assert [r["id"] for r in rows] == [d["id"] for d in reversed(sent)]
    for row, data in zip(rows, reversed(sent), strict=True):
        assert "data" not in row and {k: row[k] for k in NESTED} == listed(data)
        assert row["user"]["id"] == data["user"]["id"]


def test_calls_share_their_parts_and_read_back_as_sent(db: Database) -> None:
    sent = calls_of_one_agent(db)
    with db.connection() as conn:
        assert conn.scalar("SELECT count(*) FROM aircall_call_parts") == 3  # one user, one number, one contact
        for data, user_part, contact_part in conn.fetchall(
                "SELECT data, user_part, contact_part FROM aircall_calls ORDER BY id"):
            kept = json.loads(data) if isinstance(data, str) else data
            assert kept["user"] == 0 and user_part is not None
            assert (kept["contact"] == 0) == (contact_part is not None)
            assert len(json.dumps(kept)) < len(json.dumps(sent[0])) / 2
    read_back(db, sent)


def test_calls_stored_whole_before_0009_read_the_same(db: Database) -> None:
    sent = calls_of_one_agent(db)
    with db.connection() as conn, conn.transaction():
        for data in sent:
            conn.execute("UPDATE aircall_calls SET data = ?, user_part = NULL, number_part = NULL,"
                         " contact_part = NULL WHERE id = ?", (json.dumps(data), data["id"]))
    read_back(db, sent)


def test_an_export_of_calls_holds_them_as_sent(db: Database) -> None:
    sent = calls_of_one_agent(db)
    rows = [row for _, row in stream_rows(db, export_tables(providers())["calls"], 0, STARTED + 86_400)]
    assert [json.loads(r["data"]) for r in rows] == sent


def test_the_api_answers_hold_the_calls_as_sent(db: Database, start_server) -> None:
    """Through the Structs (shapes.Call, CallDetail): the storage is invisible in the answers."""
    sent = calls_of_one_agent(db)
    admin = start_server().admin()
    for data in sent:
        call = admin.get(f"/api/calls/{data['id']}").json()
        assert call["data"] == data and {k: call[k] for k in NESTED} == listed(data)
    listing = admin.get("/api/calls", params={"limit": 10}).json()["calls"]
    assert [c["id"] for c in listing] == [d["id"] for d in reversed(sent)]
    for row, data in zip(listing, reversed(sent), strict=True):
        assert "data" not in row and {k: row[k] for k in NESTED} == listed(data)
