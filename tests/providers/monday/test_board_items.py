"""The board_items projection: the latest known state per item, whatever the order of the changes
(hypothesis: any permutation with duplicates gives the same table), on both engines."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookline.pipeline.rebuild import rebuild
from hookline.providers.monday.board_items import BoardItemsProjection, apply
from hookline.store.engine import Database

TIMES = ["2026-11-23T10:00:00.000Z", "2026-11-23T10:00:01.000Z", "2026-11-23T10:00:02.500Z"]


def ev(kind: str, item: int = 111, at: str = TIMES[0], **fields: Any) -> dict:
    event = {"type": kind, "boardId": 1234567890, "pulseId": item, "triggerTime": at, "triggerUuid": f"{kind}{at}",
             **fields}  # fmt: skip
    return {"account": "acme", "event": kind, "body": json.dumps({"event": event}).encode()}


def status(label: str, item: int = 111, at: str = TIMES[0]) -> dict:
    return ev("update_column_value", item, at, columnId="status", columnType="color", columnTitle="Status",
              value={"label": {"text": label}}, groupId="topics")  # fmt: skip


def fold(db: Database, rows: list[dict]) -> list[tuple]:
    with db.connection() as conn, conn.transaction():
        conn.execute("DELETE FROM board_items")
        for row in rows:
            apply(conn, row)
        return conn.fetchall("SELECT * FROM board_items ORDER BY account, item_id")


def items(db: Database) -> dict[str, dict[str, Any]]:
    with db.connection() as conn:
        rows = conn.fetchall(
            "SELECT item_id, name, group_id, board_id, parent_item_id, state, column_values FROM board_items"
        )
    return {
        r[0]: {"name": r[1], "group": r[2], "board": r[3], "parent": r[4], "state": r[5],
               "columns": {k: v["value"] for k, v in json.loads(r[6]).items()}}
        for r in rows
    }


def test_latest_state_per_item(db: Database) -> None:
    stream = [
        ev("create_pulse", at=TIMES[0], pulseName="Task 1", groupId="topics", columnValues={"text": {"value": "a"}}),
        status("Working on it", at=TIMES[1]),
        status("Done", at=TIMES[2]),
        ev("update_name", at=TIMES[1], value={"name": "Task one"}, previousValue={"name": "Task 1"}),
        ev("move_pulse_into_group", at=TIMES[2], sourceGroupId="topics", destGroupId="done"),
        ev("create_pulse", 222, TIMES[0], pulseName="Sub", parentItemId="111", groupId="topics"),
        ev("archive_pulse", 222, TIMES[1]),
        ev("create_update", at=TIMES[2], updateId=5, body="<p>hi</p>"),
        {"account": "acme", "event": "x", "body": b"[]"},
    ]
    fold(db, list(reversed(stream)))
    found = items(db)
    assert found["111"] == {"name": "Task one", "group": "done", "board": "1234567890", "parent": None,
                            "state": "active", "columns": {"status": {"label": {"text": "Done"}},
                                                           "text": {"value": "a"}}}  # fmt: skip
    assert (found["222"]["state"], found["222"]["parent"]) == ("archived", "111")


def test_state_changes_at_one_instant_and_restore(db: Database) -> None:
    archived, deleted = ev("archive_pulse", at=TIMES[1]), ev("delete_pulse", at=TIMES[1])
    fold(db, [deleted, archived])
    assert items(db)["111"]["state"] == "deleted"
    fold(db, [ev("restore_pulse", at=TIMES[2]), archived, deleted])
    assert items(db)["111"]["state"] == "active"


def test_the_pipeline_handler_rebuilds_from_the_log(db: Database) -> None:
    with db.connection() as conn:
        for i, row in enumerate([ev("create_pulse", pulseName="A"), ev("create_pulse", 222, pulseName="B")]):
            conn.execute(
                "INSERT INTO events (provider, account, event, received_at, dedup_key, last_seen_at, known, body)"
                " VALUES ('monday', 'acme', ?, 0, ?, 0, TRUE, ?)",
                (row["event"], f"k{i}", row["body"]),
            )
    assert rebuild(db, {"monday": [BoardItemsProjection()]}).events == 2
    assert {k: v["name"] for k, v in items(db).items()} == {"111": "A", "222": "B"}


@st.composite
def streams(draw: st.DrawFn) -> list[dict]:
    out = []
    for _ in range(draw(st.integers(1, 12))):
        item, at = draw(st.sampled_from([111, 222])), draw(st.sampled_from(TIMES))
        kind = draw(st.sampled_from(["create_pulse", "update_column_value", "update_name", "archive_pulse",
                                     "delete_pulse", "restore_pulse", "move_pulse_into_group",
                                     "move_subitem"]))  # fmt: skip
        word = draw(st.sampled_from(["a", "b", "c"]))
        if kind == "update_column_value":
            out.append(ev(kind, item, at, columnId=draw(st.sampled_from(["status", "text"])), value={"v": word}))
        elif kind == "update_name":
            out.append(ev(kind, item, at, value={"name": word}))
        elif kind == "move_pulse_into_group":
            out.append(ev(kind, item, at, destGroupId=word))
        elif kind == "move_subitem":  # monday's shape: the item is `subitem`, no pulseId
            moved = ev(kind, item, at, subitem=item, sourcePulseId=1, destPulseId=ord(word), destBoardId=9)
            event = json.loads(moved["body"])["event"]
            del event["pulseId"], event["boardId"]
            out.append({**moved, "body": json.dumps({"event": event}).encode()})
        else:
            out.append(ev(kind, item, at, pulseName=word, groupId="topics"))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), stream=streams())
def test_any_permutation_with_duplicates_gives_the_same_table(db: Database, data: st.DataObject, stream: list) -> None:
    expected = fold(db, stream)
    duplicates = data.draw(st.lists(st.sampled_from(stream), max_size=4))
    assert fold(db, data.draw(st.permutations(stream + duplicates))) == expected
