"""What the event log can hold, checked at the edge before an event reaches the committer.

One bad value must never reach the group commit, where it would fail the whole batch (the committer
isolates it anyway, at the cost of a retry: see committer.py). So every receiver checks the fields
it copies into text columns (event name, ids that make the dedup key, URIs) with `text()`, and the
endpoint checks the finished event with `event_columns()`, a guard for anything a receiver missed.

- NUL (U+0000): PostgreSQL text cannot hold it. A lone surrogate cannot be encoded to UTF-8 at all.
- Lengths are in UTF-8 bytes: PostgreSQL's B-tree index entries are capped near 2.7 KB, and the
  event name and dedup key are indexed.
- Nesting deeper than MAX_DEPTH is refused: past what a decoder can take (JSON decoders recurse)
  before authentication and before the receiver decodes anything, the rest after authentication
  (the exact check costs more: an unauthenticated sender should not make hookline pay it).

The raw body itself is stored as bytes (BYTEA / BLOB), so a NUL escaped inside `data` (`\\u0000`,
six ASCII bytes in the body) is stored safely and never refused: the log keeps what the provider
sent, and a projection that cannot hold the value fails alone in the worker.
"""

from __future__ import annotations

import re
from itertools import accumulate

import msgspec

from hookline.types import IncomingEvent, Rejection

MAX_DEPTH = 64  # real provider payloads nest 5 or 6 deep
MAX_NAME_BYTES = 200  # event names, resource names
MAX_ID_BYTES = 512  # ids, URIs and times that become part of a dedup key or a resource id
MAX_KEY_BYTES = 2000  # the whole dedup key (its parts are capped above)

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# "[" and "{" become 1, "]" and "}" become -1 (255 read as a signed byte), everything else is deleted.
_STEPS = bytes(1 if b in b"[{" else 255 if b in b"]}" else 0 for b in range(256))
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class _AnyObject(msgspec.Struct):
    """No fields: decoding into it validates a JSON object and skips its content, allocating nothing."""


_skip = msgspec.json.Decoder(_AnyObject).decode


def may_be_too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """False when the body has too few brackets to nest past `limit`: the common case, which then
    needs neither check below. One pass over the bytes, run once per request."""
    return body.count(b"[") + body.count(b"{") > limit


def too_deep_to_decode(body: bytes) -> bool:
    """True when decoding the body would recurse past what the JSON decoders can take (about 1,000
    levels). Cheap enough to run before authentication: a scan without allocations."""
    try:
        _skip(body)
    except RecursionError:
        return True
    except msgspec.DecodeError:  # not JSON, or not an object: the receiver refuses it
        return False
    return False


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when a body that is valid JSON nests arrays/objects deeper than `limit`. Run after
    authentication, on what a receiver accepted: linear, but it costs more than the check above."""
    # Every string is well formed (the receiver decoded the body): drop them, as brackets inside
    # do not nest; then the running sum of +1/-1 over the brackets left is the depth at each point.
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS).translate(_STEPS)
    return max(accumulate(memoryview(brackets).cast("b")), default=0) > limit


def text(field: str, value: str | None, max_bytes: int = MAX_ID_BYTES) -> None:
    """Refuse (400 invalid_envelope, naming `field`) a string no text column can hold."""
    if value is None:
        return
    if "\x00" in value:
        raise Rejection(400, "invalid_envelope", f"{field} contains a NUL character")
    try:
        size = len(value.encode())
    except UnicodeEncodeError as exc:
        raise Rejection(400, "invalid_envelope", f"{field} is not valid Unicode (a lone surrogate)") from exc
    if size > max_bytes:
        raise Rejection(400, "invalid_envelope", f"{field} is longer than {max_bytes} bytes")


def ident(field: str, value: object) -> None:
    """An id that may be a number or a string: only a string can be refused."""
    if isinstance(value, str):
        text(field, value)


def event_columns(ev: IncomingEvent) -> None:
    """The finished event's text columns, whatever receiver made it."""
    text("event", ev.event, MAX_NAME_BYTES)
    text("resource", ev.resource, MAX_NAME_BYTES)
    text("resource id", ev.resource_id)
    text("account", ev.account, MAX_ID_BYTES)
    text("dedup key", ev.dedup_key, MAX_KEY_BYTES)
