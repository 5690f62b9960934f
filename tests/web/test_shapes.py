"""web/shapes.py: rows become Structs from the Struct's own field types."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from hookline.web.shapes import as_dict, from_row, from_rows, page_shape


class Row(msgspec.Struct):
    id: int
    flag: bool
    maybe: bool | None
    doc: dict[str, Any] | None
    items: list[Any] | None
    raw: Any
    text: str | None


SQLITE_ROW = {"id": 1, "flag": 1, "maybe": None, "doc": '{"a": 1}', "items": "[1, 2]", "raw": '"x"',
              "text": '{"not": "decoded"}', "v_rank": 7}  # fmt: skip


def test_json_text_and_sqlite_booleans_follow_the_field_types() -> None:
    row = from_row(Row, SQLITE_ROW)
    assert row == Row(1, True, None, {"a": 1}, [1, 2], "x", '{"not": "decoded"}')  # a str field stays text
    # PostgreSQL's decoded jsonb and real booleans come out the same.
    decoded = {**SQLITE_ROW, "flag": True, "doc": {"a": 1}, "items": [1, 2]}
    assert from_rows(Row, [SQLITE_ROW, decoded]) == [row, from_row(Row, {**decoded, "raw": '"x"'})]
    assert b"v_rank" not in msgspec.json.encode(row)  # columns the Struct does not name are left out


def test_pages_keep_every_column() -> None:
    page = as_dict(Row, SQLITE_ROW)
    assert page["flag"] is True and page["doc"] == {"a": 1} and page["v_rank"] == 7 and page["maybe"] is None


def test_a_wrong_row_is_an_error_not_a_silent_null() -> None:
    with pytest.raises(msgspec.ValidationError, match="flag"):
        from_row(Row, {**SQLITE_ROW, "flag": "maybe"})


def test_a_page_shape_is_its_list_and_next_cursor() -> None:
    page = page_shape("RowsPage", "rows", Row)
    encoded = msgspec.json.decode(msgspec.json.encode(page([from_row(Row, SQLITE_ROW)], None)))
    assert list(encoded) == ["rows", "next_cursor"] and encoded["rows"][0]["doc"] == {"a": 1}
    (schema,), components = msgspec.json.schema_components([page], ref_template="#/c/{name}")
    assert schema == {"$ref": "#/c/RowsPage"} and components["RowsPage"]["required"] == ["rows", "next_cursor"]
