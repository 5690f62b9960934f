"""A call's nested objects stored once (nested.py, migration 0009) and its data packed (packing.py,
0011), on both engines: calls share their user, number and contact parts, and every reader (the API's
call and list, exports) sees the call as Aircall sent it; rows stored whole before 0009, and as JSON
before 0011, read the same."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

import msgspec

from hookline.assembly import migration_sources
from hookline.providers.aircall import models as m
from hookline.providers.aircall import packing, shapes
from hookline.providers.aircall.nested import NESTED, split
from hookline.providers.aircall.projections import AircallProjections
from hookline.providers.aircall.projections_api import CALLS, call_record, composed
from hookline.providers.registry import providers
from hookline.retention.export import stream_rows
from hookline.retention.tables import export_tables
from hookline.store import migrations
from hookline.store.engine import Database
from hookline.testing.aircall.samples import make_call, make_contact, make_number, make_user
from tests.providers.aircall.callcenter import envelope, stored

STARTED = 1_750_000_000
DICTIONARY_1_SHA256 = "8d9e0fdc0e735480"


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
            assert bytes(data)[0] == packing.FORMAT  # packed, on both engines
            kept = json.loads(packing.unpack(bytes(data)))
            assert kept["user"] == 0 and user_part is not None
            assert (kept["contact"] == 0) == (contact_part is not None)
            assert len(json.dumps(kept)) < len(json.dumps(sent[0])) / 2
            assert len(data) < len(json.dumps(kept, separators=(",", ":"))) / 2
    read_back(db, sent)


def _as_before_0011(db: Database, value: str) -> str | bytes:
    """JSON as a row stored before 0011 holds it: text on SQLite, its bytes on PostgreSQL (0011's USING)."""
    return value if db.dialect == "sqlite" else value.encode()


def test_calls_stored_whole_before_0009_read_the_same(db: Database) -> None:
    sent = calls_of_one_agent(db)
    with db.connection() as conn, conn.transaction():
        for data in sent:
            conn.execute("UPDATE aircall_calls SET data = ?, user_part = NULL, number_part = NULL,"
                         " contact_part = NULL WHERE id = ?", (_as_before_0011(db, json.dumps(data)), data["id"]))
    read_back(db, sent)


def test_calls_stored_as_json_before_0011_read_the_same(db: Database) -> None:
    """0009's rows: parts apart, data JSON with a 0 in their places, not packed."""
    sent = calls_of_one_agent(db)
    with db.connection() as conn, conn.transaction():
        for data in sent:
            text = split(msgspec.json.encode(data)).data
            conn.execute("UPDATE aircall_calls SET data = ? WHERE id = ?",
                         (_as_before_0011(db, packing.unpack(text).decode()), data["id"]))
    read_back(db, sent)
    rows = [row for _, row in stream_rows(db, export_tables(providers())["calls"], 0, STARTED + 86_400)]
    assert [json.loads(r["data"]) for r in rows] == sent


def test_migration_0011_keeps_the_calls_stored_before_it(db: Database) -> None:
    """A database at 0010 (PostgreSQL's data column jsonb again) holding a call as 0009 stored it and
    two stored whole before 0009: after 0011 every call reads as sent, and its next write packs it."""
    sent = calls_of_one_agent(db)
    with db.connection() as conn, conn.transaction():
        as_0009 = packing.unpack(split(msgspec.json.encode(sent[0])).data)
        conn.execute("UPDATE aircall_calls SET data = ? WHERE id = ?", (as_0009, sent[0]["id"]))
        for data in sent[1:]:
            conn.execute("UPDATE aircall_calls SET data = ?, user_part = NULL, number_part = NULL,"
                         " contact_part = NULL WHERE id = ?", (json.dumps(data).encode(), data["id"]))
        if db.dialect == "postgresql":
            conn.execute("ALTER TABLE aircall_calls ALTER COLUMN data TYPE JSONB"
                         " USING convert_from(data, 'UTF8')::jsonb")
        else:  # 0010's SQLite stored text
            conn.execute("UPDATE aircall_calls SET data = CAST(data AS TEXT)")
        conn.execute("DELETE FROM schema_migrations WHERE component = 'aircall' AND version = 11")
    assert [m.version for m in migrations.upgrade(db, migration_sources(providers()))] == [11]
    read_back(db, sent)
    rows = [row for _, row in stream_rows(db, export_tables(providers())["calls"], 0, STARTED + 86_400)]
    assert [json.loads(r["data"]) for r in rows] == sent
    later = [stored(10 + i, envelope("call.ended", STARTED + 7200, data)) for i, data in enumerate(sent)]
    with db.connection() as conn, conn.transaction():
        AircallProjections().apply(conn, later)  # a newer snapshot of each call: written again, packed
        assert {bytes(r[0])[0] for r in conn.fetchall("SELECT data FROM aircall_calls")} == {packing.FORMAT}
    read_back(db, sent)


def test_packing_round_trips_and_keeps_its_dictionary() -> None:
    rng = random.Random(3)
    user, number = make_user(rng, 1, v2=True), make_number(rng, 2)
    for i in range(50):
        body = msgspec.json.encode(make_call(rng, 10 + i, user=user, number=number, contact=None,
                                             recording=i % 2 == 0, answered=i % 3 != 0, comments=[]))
        packed = packing.pack(body)
        assert packed[0] == packing.FORMAT and packing.unpack(packed) == body
        assert packing.unpack(memoryview(packed)) == body  # as a driver may hand a BLOB back
    for legacy in ('{"id": 1}', b'{"id": 1}', {"id": 1}, None):
        assert packing.unpack(legacy) == legacy  # JSON stored before 0011 reads as it is
    # Stored rows depend on the dictionary's exact bytes: a new one gets a new format byte instead.
    assert hashlib.sha256(packing._DICTIONARIES[1]).hexdigest()[:16] == DICTIONARY_1_SHA256


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
