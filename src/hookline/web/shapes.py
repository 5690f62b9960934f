"""One definition per JSON shape: the admin API's answers are msgspec Structs.

A Struct is what an endpoint encodes (`JSON(struct)`) and what /api/openapi.json documents
(`msgspec.json.schema_components`, web/openapi.py), so the served shape and the documented one
cannot drift. A new field of an API row goes in its Struct (and its SELECT); nothing else lists it.

Rows become Structs once, through `from_row`/`from_rows`: a field whose type is not a plain
scalar (an object, a list, Any) is a JSON column, decoded here when the engine gave text (SQLite;
PostgreSQL's jsonb arrives decoded), and SQLite's 0/1 become the booleans the Struct declares.
Columns the Struct does not name (versions, ranks) are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import inspect as mi

S = TypeVar("S", bound=msgspec.Struct)

Unix = Annotated[float, msgspec.Meta(description="unix seconds")]
Iso = Annotated[str, msgspec.Meta(extra_json_schema={"format": "date-time"})]
Count = Annotated[int, msgspec.Meta(ge=0)]
Counts = Annotated[dict[str, Count], msgspec.Meta(description="counts by state")]


class Error(msgspec.Struct):
    """The one error shape of every /api answer that is not a 2xx."""

    error: Annotated[str, msgspec.Meta(description="a stable code, e.g. invalid_query, not_found")]
    message: Annotated[str, msgspec.Meta(description="what went wrong, for people")]


class Retried(msgspec.Struct):
    """How many parked rows were queued again."""

    retried: Count


_DOCS = (mi.AnyType, mi.DictType, mi.ListType, mi.StructType, mi.TypedDictType, mi.DataclassType)


def _is_doc(t: mi.Type) -> bool:
    if isinstance(t, mi.Metadata):
        return _is_doc(t.type)
    if isinstance(t, mi.UnionType):
        return any(_is_doc(u) for u in t.types)
    return isinstance(t, _DOCS)


def _is_bool(t: mi.Type) -> bool:
    if isinstance(t, mi.Metadata):
        return _is_bool(t.type)
    if isinstance(t, mi.UnionType):
        return any(_is_bool(u) for u in t.types)
    return isinstance(t, mi.BoolType)


def _fields(cls: type[msgspec.Struct]) -> tuple[mi.Field, ...]:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    return info.fields


@cache
def _json_fields(cls: type[msgspec.Struct]) -> frozenset[str]:
    return frozenset(f.encode_name for f in _fields(cls) if _is_doc(f.type))


@cache
def _bool_fields(cls: type[msgspec.Struct]) -> frozenset[str]:
    return frozenset(f.encode_name for f in _fields(cls) if _is_bool(f.type))


def _decoded(cls: type[msgspec.Struct], row: Mapping[str, Any]) -> Mapping[str, Any]:
    docs = _json_fields(cls)
    if not docs:
        return row
    return {k: msgspec.json.decode(v) if k in docs and isinstance(v, str) else v for k, v in row.items()}


def as_dict(cls: type[msgspec.Struct], row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as a dict for pages that read more columns than the Struct has: the Struct's JSON columns
    decoded and its booleans as booleans, every column kept."""
    flags = _bool_fields(cls)
    return {k: bool(v) if k in flags and v is not None else v for k, v in _decoded(cls, row).items()}


def from_row(cls: type[S], row: Mapping[str, Any]) -> S:
    """A Struct from a row mapping (JSON text decoded, 0/1 as booleans, other columns ignored)."""
    return msgspec.convert(_decoded(cls, row), cls, strict=False)


@cache
def _list_of(cls: type[msgspec.Struct]) -> Any:
    return list[cls]  # type: ignore[valid-type]  # made once per Struct, not per request


def from_rows(cls: type[S], rows: Iterable[Mapping[str, Any]]) -> list[S]:
    """`from_row` for many rows, converted in one call."""
    found: list[S] = msgspec.convert([_decoded(cls, r) for r in rows], _list_of(cls), strict=False)
    return found


def page_shape(name: str, key: str, item: Any) -> type[msgspec.Struct]:
    """One page of a listing: `{key: [item...], next_cursor}`; next_cursor is null on the last page."""
    return msgspec.defstruct(
        name,
        [(key, list[item]), ("next_cursor", str | None)],
        module=item.__module__ if isinstance(item, type) else __name__,
    )
