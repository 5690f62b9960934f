"""The JSON of a provider API's answer, read whatever Unicode it escapes.

A string can escape half a surrogate pair alone (`"\\ud83d"`: a name cut in the middle of an emoji).
msgspec refuses it, and the json module reads it into a str that no UTF-8 can hold: storing or
forwarding the record then fails, and with it the page it came in (a backfill window failed again
on every run). `decode_json` reads it and turns each lone half into U+FFFD; the rest of the record
stays as sent.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def decode_json(body: bytes) -> Any:
    """The answer's JSON (msgspec, falling back to the json module for lone surrogates); ValueError when
    it is not JSON (msgspec.DecodeError and json.JSONDecodeError are ValueErrors, as is invalid UTF-8)."""
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        return _mend(json.loads(body))


def _mend(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_mend(k): _mend(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mend(v) for v in value]
    return value
