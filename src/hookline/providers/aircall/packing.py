"""A call's stored `data`, compressed.

After its user, number and contact moved to aircall_call_parts (nested.py), a call's `data` is
~0.8 KB of JSON: too small for PostgreSQL's TOAST, which compresses only rows over ~2 KB, and on
SQLite never compressed. Each call stores it once more per snapshot, so it is most of a call's
bytes. It is deflated (zlib, the standard library's) with a preset dictionary: a call's key names
and the URL prefixes Aircall repeats in every call, which small values cannot find in themselves.

The stored value is one format byte and the deflate stream. The dictionary is part of the format:
never change `_DICTIONARY_1`; a better one gets a new format byte (and `_DICTIONARIES` keeps the
old one, so rows stored with it stay readable). A value not starting with a known format byte is
JSON as stored before (text on SQLite, the bytes of the text on PostgreSQL, whose column was jsonb
before migration 0011): it reads as it is.
"""

from __future__ import annotations

import zlib
from typing import Any

# Two calls as Aircall sends them (its key order; a part's place holds 0: nested.py): the answered
# one's recording links, the missed one's voicemail. zlib matches against the end of the
# dictionary first, so the most common strings come last.
_DICTIONARY_1 = (
    b'{"id":1,"call_uuid":"CA","direct_link":"https://api.aircall.io/v1/calls/","direction":"outbound",'
    b'"status":"done","missed_call_reason":"agents_did_not_answer","started_at":1,"answered_at":null,'
    b'"ended_at":1,"duration":1,"voicemail":"https://aircall-recordings.s3.amazonaws.com/calls/'
    b'/voicemail.mp3?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=&X-Amz-Date=&X-Amz-Expires=3600'
    b'&X-Amz-SignedHeaders=host&X-Amz-Signature=","recording":null,"asset":"https://assets.aircall.io'
    b'/calls//voicemail","raw_digits":"+1 ","country_code_a2":"US","cost":"0.0","hangup_cause":'
    b'"NORMAL_CLEARING","archived":false,"user":null,"contact":null,"number":0,"assigned_to":null,'
    b'"transferred_by":null,"transferred_to":null,"teams":[],"tags":[],"comments":[],"participants":'
    b'[{"type":"external","phone_number":"+1 "}],"voicemail_short_url":"https://short-urls.aircall.io/v1/",'
    b'"ivr_options_selected":[],"sid":null}'
    b'{"id":1,"call_uuid":"CA","direct_link":"https://api.aircall.io/v1/calls/","direction":"inbound",'
    b'"status":"done","missed_call_reason":null,"started_at":1,"answered_at":1,"ended_at":1,"duration":1,'
    b'"voicemail":null,"recording":"https://aircall-recordings.s3.amazonaws.com/calls//recording.mp3?'
    b'X-Amz-Expires=3600&X-Amz-Signature=","asset":"https://assets.aircall.io/calls//recording",'
    b'"raw_digits":"+44 20 ","country_code_a2":"GB","cost":"0.0","archived":false,"user":0,"contact":0,'
    b'"number":0,"assigned_to":null,"transferred_by":null,"transferred_to":null,"teams":[{"id":1,"name":'
    b'"","direct_link":"https://api.aircall.io/v1/teams/","created_at":"2020-01-01T00:00:00.000Z","users":'
    b'[]}],"tags":[{"id":1,"name":"","color":"#","description":null,"direct_link":'
    b'"https://api.aircall.io/v1/tags/"}],"comments":[{"id":1,"content":"","posted_at":1,"posted_by":'
    b'{"id":1,"name":"","email":"","direct_link":"https://api.aircall.io/v1/users/"}}],"participants":'
    b'[{"type":"external","phone_number":"+44 20 "},{"type":"user","id":1,"name":""}],'
    b'"recording_short_url":"https://short-urls.aircall.io/v1/","hangup_cause":"NORMAL_CLEARING"}'
)
_DICTIONARIES = {1: _DICTIONARY_1}
FORMAT = 1  # what pack() writes
_LEVEL = 6  # zlib's default: level 9 saved 1 % more here, for 1.5x the time


def pack(data: bytes) -> bytes:
    """`data` (a call's JSON) as stored: the format byte, then its deflate stream."""
    deflate = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15, zdict=_DICTIONARIES[FORMAT])
    return bytes((FORMAT,)) + deflate.compress(data) + deflate.flush()


def unpack(value: Any) -> Any:
    """A stored `data` as JSON text or bytes (or, on a PostgreSQL jsonb column, what the driver
    decoded): packed values inflated, anything else as it is."""
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes) and value[:1] and value[0] in _DICTIONARIES:
        inflate = zlib.decompressobj(-15, zdict=_DICTIONARIES[value[0]])
        return inflate.decompress(value[1:]) + inflate.flush()
    return value
