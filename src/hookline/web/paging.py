"""The one id-cursor paging of the admin API's lists: `?limit=` (1..500, default 100) and `?cursor=`
(the previous page's `next_cursor`: ids below it), newest first. A list reads `limit + 1` rows;
the extra one only says that another page follows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from hookline.web.params import MAX_ID, int_param

T = TypeVar("T")
MAX_LIMIT = 500


def page_params(q: Mapping[str, str], most: int = MAX_LIMIT) -> tuple[int, int | None]:
    """(limit, cursor) from the query; BadQuery names a bad one."""
    limit = int_param(q, "limit", 100, 1, most) or 100
    return limit, int_param(q, "cursor", None, 1, MAX_ID)


def id_page(rows: Sequence[T], limit: int, id_of: Any = None) -> tuple[list[T], str | None]:
    """The page (at most `limit` of the `limit + 1` rows read) and its next_cursor: the last id, when
    more follow. `id_of` reads a row's id (default: row["id"])."""
    page = list(rows[:limit])
    if len(rows) <= limit or not page:
        return page, None
    last = page[-1]
    return page, str(id_of(last) if id_of is not None else last["id"])  # type: ignore[index]
