"""A call's nested objects, stored once.

`data` is the call as Aircall sent it. Its user, number and contact objects are the same for many
calls (an agent's, a line's, a customer's), so each distinct one is stored once in
aircall_call_parts, keyed by a digest of its JSON; the call's `data` keeps a 0 in its place (no
payload has one there: the model refuses it) and the call row the part's id (user_part, number_part,
contact_part). `whole()` puts them back, `nested()` derives the objects the API lists (the catalog
model's view: known fields in the model's order, absent ones left out), which the projection stored
in columns of their own before migration 0009. Rows written before 0009 keep their whole data:
`whole()` leaves it as it is. What is stored is `data` packed (packing.py: deflated, ~0.8 KB of JSON
to ~0.3 KB); `whole()` reads both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from hookline.providers.aircall import models as m
from hookline.providers.aircall.packing import pack, unpack
from hookline.store.engine import Connection
from hookline.store.queries import load_queries

Q = load_queries(__package__)

NESTED = ("user", "number", "contact", "assigned_to", "teams", "tags", "comments", "transferred_by",
          "transferred_to", "participants")
PARTS = ("user", "number", "contact")  # stored once each; the rest are small or empty on most calls
PART_COLUMNS = tuple(f"part_{name}" for name in PARTS)  # a SELECT's parts of the call (queries.sql)
_encode = msgspec.json.encode
_decode_any = msgspec.json.Decoder().decode


def part_id(value: bytes) -> int:
    """A 63-bit id from the part's JSON (BIGINT; ~5e-6 chance of any collision among 10M parts)."""
    return int.from_bytes(hashlib.blake2b(value, digest_size=8).digest(), "big") >> 1


@dataclass(frozen=True, slots=True)
class Split:
    data: bytes  # the call with a 0 for each part stored apart, packed
    refs: tuple[int | None, ...]  # the part ids, in the order of PARTS
    parts: tuple[tuple[int, str], ...]  # (id, JSON) of those parts


def split(data: bytes) -> Split:
    """A call's `data` as the projection stores it (compact JSON, the same values and key order, packed)."""
    obj = _decode_any(data)
    refs: list[int | None] = []
    parts: list[tuple[int, str]] = []
    for name in PARTS:
        value = obj.get(name) if isinstance(obj, dict) else None
        if isinstance(value, dict) and value:
            raw = _encode(value)
            pid = part_id(raw)
            obj[name] = 0
            parts.append((pid, raw.decode()))
            refs.append(pid)
        else:
            refs.append(None)
    return Split(pack(_encode(obj)), tuple(refs), tuple(parts))


def _loaded(value: Any) -> Any:
    value = unpack(value)
    return _decode_any(value) if isinstance(value, str | bytes) else value  # JSON text, or a part's jsonb


def whole(data: Any, parts: Mapping[str, Any]) -> Any:
    """A stored call's data with its parts back in place (`parts`: name -> the part's JSON or None)."""
    obj = _loaded(data)
    if isinstance(obj, dict):
        for name in PARTS:
            value = obj.get(name)
            if type(value) is int and value == 0:  # a part's place (None if the part were ever lost)
                part = parts.get(name)
                obj[name] = None if part is None else _loaded(part)
    return obj


def nested(data: dict[str, Any]) -> dict[str, Any]:
    """{name: object or None} for each of NESTED, from a call's whole data."""
    call = msgspec.convert(data, m.Call)
    return {name: msgspec.to_builtins(getattr(call, name)) for name in NESTED}


def expand_row(raw: dict[str, Any]) -> dict[str, Any]:
    """A call's row as its SELECT gave it (part_user, part_number, part_contact; `data AS nested` for
    the nested objects), as the API reads it: data whole, `nested` replaced by the NESTED objects."""
    row = {k: v for k, v in raw.items() if k not in PART_COLUMNS and k != "nested"}
    full = whole(raw["nested"] if "nested" in raw else raw.get("data"), {n: raw.get(f"part_{n}") for n in PARTS})
    if "data" in row:
        row["data"] = full
    if "nested" in raw:
        row.update(nested(full) if isinstance(full, dict) else dict.fromkeys(NESTED))
    return row


def expand_export(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """`hookline export calls`: each call's data whole, as JSON text (each part read once a page);
    `rows` as the engine gave them (data packed, or JSON stored before 0011)."""
    found: dict[tuple[str, int], Any] = {}
    for row in rows:
        parts = {}
        for name in PARTS:
            pid = row.get(f"{name}_part")
            if pid is not None:
                key = (row["account"], pid)
                if key not in found:
                    found[key] = conn.scalar(Q.call_part, key)
                parts[name] = found[key]
        if row.get("data") is not None:
            row["data"] = _encode(whole(row["data"], parts)).decode()
