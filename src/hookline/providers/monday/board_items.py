"""The board_items projection: a pure function of the event log, one row per monday.com item.

monday's events are changes ("column status became Done at t"), not snapshots, and arrive in any
order. Every field of an item is a last-writer-wins register versioned by (trigger time, rank,
digest of the event): name, group, board, parent, state, and each column value on its own. A merge
keeps the greater version per register, which is commutative, associative and idempotent: any
permutation of the events, with duplicates, gives the same table. Among state changes at the same
instant, delete outranks archive, which outranks restore.

`apply(conn, event_row)` folds one event (`event_row`: a mapping with at least "account", "event",
"body"); `BoardItemsProjection` is the pipeline handler workers and `hookline rebuild` run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from hookline.pipeline.handlers import EventHandler, StoredEvent
from hookline.providers.monday.receiver import trigger_time
from hookline.store.engine import Connection
from hookline.store.queries import load_queries
from hookline.timeparse import plausible

Q = load_queries(__package__)

PROVIDER = "monday"
STATES = {"create_pulse": ("active", 0), "restore_pulse": ("active", 1), "archive_pulse": ("archived", 2),
          "delete_pulse": ("deleted", 3)}  # fmt: skip
Version = list[Any]  # [time, rank, digest]: JSON-friendly, compared as a tuple


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _id(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str) and str(value):
        return str(value)
    return None


def observations(event: Mapping[str, Any]) -> tuple[str, dict[str, tuple[Any, Version]], dict[str, Any]] | None:
    """(item id, {register: (value, version)}, {column id: (cell, version)}) told by one event."""
    item = _id(event.get("pulseId")) or _id(event.get("itemId")) or _id(event.get("subitem"))
    kind = event.get("type")
    if item is None or not isinstance(kind, str):
        return None
    at = trigger_time(event.get("triggerTime"))
    if at is None:
        return None
    digest = hashlib.sha256(canonical(event).encode()).hexdigest()[:32]
    version: Version = [at, 0, digest]
    registers: dict[str, tuple[Any, Version]] = {}
    columns: dict[str, Any] = {}

    # Every event tells the item's board, group and name as they were; the event that changes one of
    # them (a move, a rename) outranks an incidental mention at the same instant.
    moved: Version = [at, 1, digest]
    # move_subitem's boards are the parents' (the subitem stays on its subitems board): not the item's.
    board = None if kind == "move_subitem" else _id(event.get("destBoardId")) or _id(event.get("boardId"))
    if board:
        registers["board_id"] = (board, moved if kind == "move_pulse_into_board" else version)
    group = _id(event.get("destGroupId")) or _id(event.get("groupId"))
    if group:
        registers["group_id"] = (group, moved if kind.startswith("move_pulse_into") else version)
    if kind == "move_subitem":
        parent = _id(event.get("destPulseId"))
        if parent:
            registers["parent_item_id"] = (parent, moved)
    else:
        parent = _id(event.get("parentItemId"))
        if parent:
            registers["parent_item_id"] = (parent, version)
    if kind == "update_name" and isinstance(event.get("value"), dict) and isinstance(event["value"].get("name"), str):
        registers["name"] = (event["value"]["name"], moved)
    elif isinstance(event.get("pulseName"), str):
        registers["name"] = (event["pulseName"], version)
    if kind in STATES:
        state, rank = STATES[kind]
        registers["state"] = (state, [at, rank, digest])
    if kind == "update_column_value" and _id(event.get("columnId")):
        changed = plausible(event.get("changedAt"))  # absent, or 1e308 / a NaN: the trigger's time
        col_at = at if changed is None else changed
        cell = {"value": event.get("value"), "type": event.get("columnType"), "title": event.get("columnTitle")}
        columns[str(event["columnId"])] = (cell, [col_at, 0, digest])
    if kind == "create_pulse" and isinstance(event.get("columnValues"), dict):
        for column, value in event["columnValues"].items():
            columns.setdefault(str(column), ({"value": value, "type": None, "title": None}, version))
    return item, registers, columns


def _held(version: Any) -> Version | None:
    """A stored version, or None when it is not one a valid event can beat: an "inf" or 1e20 trigger
    time stored by an older version must not freeze the register for good."""
    if not isinstance(version, list) or not version or plausible(version[0]) is None:
        return None
    return version


def _newer(candidate: Version, current: Version | None) -> bool:
    current = _held(current)
    return current is None or tuple(candidate) > tuple(current)


def apply(conn: Connection, event_row: Mapping[str, Any]) -> None:
    """Fold one event into `board_items` (idempotent, order-independent). Call inside a transaction."""
    try:
        body = json.loads(bytes(event_row["body"]))
    except (ValueError, TypeError):
        return
    event = body.get("event") if isinstance(body, dict) else None
    if not isinstance(event, dict):
        return
    told = observations(event)
    if told is None:
        return
    item, registers, columns = told
    account = str(event_row["account"])
    # Read-merge-write under the row's lock: two workers on one item (PostgreSQL) take turns instead of
    # losing each other's registers. The row is made first so that there is a row to lock.
    conn.execute(Q.ensure_board_item, (account, item))
    row = conn.fetchone(Q.lock_board_item, (account, item))
    names = ("board_id", "parent_item_id", "name", "group_id", "state")
    fields: dict[str, Any] = dict(zip(names, row[:5], strict=True))
    cells: dict[str, Any] = json.loads(row[5])
    versions: dict[str, Version] = json.loads(row[6])
    for name, (value, version) in registers.items():
        if _newer(version, versions.get(name)):
            fields[name], versions[name] = value, version
    for column, (cell, version) in columns.items():
        current = cells.get(column)
        if _newer(version, current["version"] if current else None):
            cells[column] = {**cell, "version": version}
    times = [v[0] for v in versions.values()] + [c["version"][0] for c in cells.values()]
    updated_at = max((t for t in times if plausible(t) is not None), default=None)
    state = fields["state"] if "state" in versions else "active"
    conn.execute(
        Q.save_board_item,
        (fields["board_id"], fields["parent_item_id"], fields["name"], fields["group_id"], state,
         canonical(cells), canonical(versions), updated_at, account, item),
    )  # fmt: skip


class BoardItemsProjection(EventHandler):
    name = "monday.board_items"
    tables = ("board_items",)

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        for ev in events:
            apply(conn, {"account": ev.account, "event": ev.event, "body": ev.body})
