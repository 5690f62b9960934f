"""ingest/validate.py: the depth checks agree with the real nesting, brackets inside strings do not count."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookline.ingest import validate
from hookline.types import Rejection


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


TEXT = st.text(alphabet=st.sampled_from('[]{}"\\ab\x00é'), max_size=6)
VALUES = st.recursive(st.none() | st.integers() | TEXT, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(TEXT, inner, max_size=3), max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(VALUES, st.integers(1, 8))
def test_too_deep_agrees_with_the_nesting(value: Any, limit: int) -> None:
    body = json.dumps({"data": value}).encode()
    assert validate.too_deep(body, limit) == (depth({"data": value}) > limit)
    if depth({"data": value}) > limit:
        assert validate.may_be_too_deep(body, limit)  # the shortcut never hides a deep body


def test_the_limit_is_inclusive_and_strings_do_not_nest() -> None:
    at = b'{"a":' + b"[" * 63 + b"]" * 63 + b"}"
    past = b'{"a":' + b"[" * 64 + b"]" * 64 + b"}"
    assert not validate.too_deep(at) and validate.too_deep(past)
    in_strings = b'{"a":"' + b"[" * 200 + b'","b":"\\"[[[[[\\\\","c":[]}'
    assert validate.may_be_too_deep(in_strings) and not validate.too_deep(in_strings)
    assert validate.too_deep_to_decode(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert not validate.too_deep_to_decode(b"[" * 100_000)  # not JSON: the receiver refuses it


@pytest.mark.parametrize(
    ("value", "message"),
    [("a\x00b", "x contains a NUL character"), ("a\ud800", "x is not valid Unicode (a lone surrogate)"),
     ("é" * 257, "x is longer than 512 bytes")],
)
def test_text_refusals_name_the_field(value: str, message: str) -> None:
    with pytest.raises(Rejection) as caught:
        validate.text("x", value)
    assert (caught.value.status, caught.value.reason, caught.value.message) == (400, "invalid_envelope", message)
    validate.text("x", "é" * 256)  # 512 bytes: accepted
    validate.ident("x", 2**200)  # numbers are not text
