"""Hostile input at every receiver, under a load of valid events (issue 11).

While threads keep posting valid events to every receiver (Aircall; Calendly, signed; monday.com, an
account with a signing secret and one without), hypothesis sends generated hostile bodies: invalid
JSON (lone surrogates, NaN, raw bytes, wrong content types), nesting past the depth limit, wrong types
for every envelope field, NUL and oversized strings where the log keeps text, duplicate keys and
random JSON (NUL inside) in the payload. Asserted: every valid event answered 200 and stored once;
every hostile body answered 4xx where it must be refused, never 5xx in any case; afterwards /healthz,
/api/events and the dashboard's pages (every event's page too) answer 200.

Hostile numbers (huge, non-finite) have their own tests at the end.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookline.ingest.validate import MAX_DEPTH
from hookline.providers.aircall.tokens import TokenStore
from hookline.providers.calendly import signature
from hookline.providers.calendly.accounts import AccountStore as CalendlyAccounts
from hookline.providers.calendly.keys import KeyStore
from hookline.providers.monday.accounts import AccountStore as MondayAccounts
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from tests.dashboard.helpers import signed_in
from tests.support import Server

BOX = SecretBox(None)
TOKEN = "aircall-hostile-token-000001"
KEY = "calendly-hostile-signing-key-0001"
SECRET = "monday-hostile-signing-secret-0123456789-0123456789-abcdef"
VALID_FROM = 10**8  # the load's events have ids from here, hostile ones below
RECEIVERS = ("aircall", "calendly", "monday-open", "monday-signed")
PAGES = ("/", "/operations", "/events", "/aircall/live", "/aircall/agents", "/aircall/calls", "/aircall/analytics",
         "/calendly/bookings", "/monday/items")  # fmt: skip


def register(db: Database) -> None:
    TokenStore(db).add(TOKEN, "acme")
    CalendlyAccounts(db, BOX).add("acme", "acme-calendly-token-0123456789", None, None)
    KeyStore(db, BOX).add("acme", KEY)
    monday = MondayAccounts(db, BOX)
    monday.add("open", "open-monday-token-0123456789", None, None)  # no secret: anyone may post
    monday.add("signed", "signed-monday-token-0123456789", SECRET, None)


@dataclass
class Post:
    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def send(self, c: httpx.Client) -> httpx.Response:
        return c.post(self.path, content=self.body, headers=self.headers)


def to_receiver(receiver: str, body: bytes, content_type: str = "application/json") -> Post:
    """A body as `receiver` gets it from its provider: Calendly's signed, monday's with a JWT."""
    headers = {"content-type": content_type}
    if receiver == "aircall":
        return Post("/aircall/webhook", body, headers)
    if receiver == "calendly":
        headers[signature.HEADER] = signature.header_value(KEY, int(time.time()), body)
        return Post("/calendly/webhook", body, headers)
    account = receiver.removeprefix("monday-")
    if account == "signed":
        now = int(time.time())
        headers["authorization"] = jwt.encode({"iat": now, "exp": now + 300}, SECRET, algorithm="HS256")
    return Post(f"/monday/webhook?account={account}", body, headers)


def envelope(receiver: str, n: int, **fields: Any) -> dict[str, Any]:
    """A valid event for `receiver`, naming its resource `n`; `fields` replace envelope fields."""
    if receiver == "aircall":
        env: dict[str, Any] = {"resource": "call", "event": "call.created", "timestamp": 1_763_900_000,
                               "token": TOKEN, "data": {"id": n, "direction": "inbound", "status": "initial"}}
    elif receiver == "calendly":
        env = {"event": "invitee.created", "created_at": "2026-11-23T10:00:00.000000Z",
               "created_by": "https://api.calendly.com/users/U1",
               "payload": {"uri": resource_id(receiver, n),
                           "email": "jane@example.com", "status": "active"}}
    else:
        env = {"event": {"app": "monday", "type": "create_pulse", "triggerTime": "2026-11-23T10:00:00.123Z",
                         "boardId": 1234567890, "pulseId": n, "triggerUuid": f"uuid-{n}", "pulseName": "Item"}}
    for name, value in fields.items():  # "data.id" reaches into the payload
        target = env
        *path, last = name.split(".")
        for part in path:
            target = target[part]
        target[last] = value
    return env


def encode(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()  # ensure_ascii: a lone surrogate becomes "\ud800"


def resource_id(receiver: str, n: int) -> str:
    """What the log keeps as the resource id of event `n`: Calendly's invitee URI, else the id."""
    return f"https://api.calendly.com/scheduled_events/E/invitees/INV{n}" if receiver == "calendly" else str(n)


# --- what is hostile -------------------------------------------------------------------------------------

NUL_TEXT = st.text(max_size=20).map(lambda s: s[: len(s) // 2] + "\x00" + s[len(s) // 2 :])
SURROGATE_TEXT = st.builds(lambda a, s, b: a + s + b, st.text(max_size=5),
                           st.sampled_from(["\ud800", "\udfff", "\udc00"]), st.text(max_size=5))
LONG_TEXT = st.integers(600, 5000).map(lambda n: "é" * n)
WRONG_TYPES = st.one_of(st.booleans(), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3),
                        st.integers(), max_size=2), st.floats(allow_nan=False, allow_infinity=False))
# Envelope fields each receiver copies into a text column, and the fields with a declared type.
TEXT_FIELDS = {
    "aircall": ("event", "resource", "data.id"),
    "calendly": ("event", "created_at", "payload.uri"),
    "monday-open": ("event.type", "event.pulseId", "event.triggerUuid", "event.triggerTime", "event.updateId"),
}
TEXT_FIELDS["monday-signed"] = TEXT_FIELDS["monday-open"]
TYPED_FIELDS = {
    "aircall": ("event", "resource", "timestamp", "token"),
    "calendly": ("event", "created_at", "created_by"),
    "monday-open": ("event.type", "event.triggerUuid", "event.triggerTime", "event.pulseId", "event.boardId"),
}
TYPED_FIELDS["monday-signed"] = TYPED_FIELDS["monday-open"]
PAYLOAD = {"aircall": "data", "calendly": "payload", "monday-open": "event", "monday-signed": "event"}

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(0, 10**9) | st.text(max_size=30) | NUL_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@st.composite
def refused(draw: st.DrawFn) -> tuple[str, Post]:
    """A body the receiver must refuse with a 4xx."""
    receiver = draw(st.sampled_from(RECEIVERS))
    n = draw(st.integers(0, VALID_FROM - 1))
    kind = draw(st.sampled_from(["bad_text", "wrong_type", "deep", "not_json", "surrogate", "content_type"]))
    if kind == "bad_text":
        name = draw(st.sampled_from(TEXT_FIELDS[receiver]))
        body = encode(envelope(receiver, n, **{name: draw(NUL_TEXT | SURROGATE_TEXT | LONG_TEXT)}))
    elif kind == "wrong_type":
        name = draw(st.sampled_from(TYPED_FIELDS[receiver]))
        numeric = name in ("timestamp", "event.triggerTime")  # a float is a right type there
        wrong = draw(WRONG_TYPES.filter(lambda v: not (numeric and isinstance(v, float))))
        body = encode(envelope(receiver, n, **{name: wrong}))
    elif kind == "deep":
        body = _deep(receiver, draw(st.integers(MAX_DEPTH + 1, 3000)), n)
    elif kind == "not_json":
        body = draw(st.sampled_from([b"", b"{", b"null", b"[]", b'"text"', b"NaN", b"{'a': 1}", b"\x00\xff\xfe",
                                     b'{"event": "call.created", "data": {"id": 1}'])
                    | st.binary(max_size=40).filter(lambda b: not b.strip().startswith((b"{", b"[", b'"'))))
    elif kind == "surrogate":  # a lone surrogate anywhere, even deep in the payload: not valid JSON text
        body = encode(envelope(receiver, n, **{f"{PAYLOAD[receiver]}.note": draw(SURROGATE_TEXT)}))
    else:  # a form or multipart body where JSON is expected
        form = draw(st.sampled_from([("application/x-www-form-urlencoded", b"event=call.created&token=" +
                                      TOKEN.encode()), ("multipart/form-data; boundary=x",
                                      b"--x\r\nContent-Disposition: form-data; name=event\r\n\r\nx\r\n--x--")]))
        return receiver, to_receiver(receiver, form[1], form[0])
    return receiver, to_receiver(receiver, body)


@st.composite
def odd_but_storable(draw: st.DrawFn) -> tuple[str, Post]:
    """Bodies a receiver may store: never a 5xx, and nothing stored may break a page."""
    receiver = draw(st.sampled_from(RECEIVERS))
    n = draw(st.integers(0, VALID_FROM - 1))
    kind = draw(st.sampled_from(["random_payload", "payload_type", "duplicate_keys", "content_type"]))
    env = envelope(receiver, n)
    if kind == "payload_type":  # the payload itself of any type: a list, a string, null...
        env[PAYLOAD[receiver]] = draw(JSON_VALUES)
        return receiver, to_receiver(receiver, encode(env))
    if kind == "random_payload":  # random JSON (NUL in strings) as extra payload fields
        extra = draw(st.dictionaries(st.text(max_size=8).filter(lambda k: k not in ("id", "uri", "type")),
                                     JSON_VALUES, max_size=4))
        env[PAYLOAD[receiver]].update(extra)
        return receiver, to_receiver(receiver, encode(env))
    if kind == "duplicate_keys":  # the first value of a key shadowed by a later one
        first = draw(JSON_VALUES)
        text = encode(env).decode()
        key = next(iter(env))
        text = "{" + json.dumps(key) + ":" + json.dumps(first) + "," + text[1:]
        return receiver, to_receiver(receiver, text.encode())
    ctype = draw(st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "", "application/json; q=1"]))
    return receiver, to_receiver(receiver, encode(env), ctype)


# --- load of valid events --------------------------------------------------------------------------------


@dataclass
class Load:
    """Valid events posted from threads until stopped: what each got back."""

    server: Server
    answers: dict[tuple[str, int], int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, worker: int) -> None:
        with self.server.client() as c:
            for i in range(100_000):
                if self.stop.is_set():
                    return
                receiver = RECEIVERS[(worker + i) % len(RECEIVERS)]
                n = VALID_FROM + worker * 10**6 + i
                try:
                    status = to_receiver(receiver, encode(envelope(receiver, n))).send(c).status_code
                except httpx.HTTPError as exc:
                    self.errors.append(f"{receiver} {n}: {type(exc).__name__}")
                    continue
                self.answers[(receiver, n)] = status


@contextmanager
def valid_load(server: Server, threads: int = 3) -> Iterator[Load]:
    load = Load(server)
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(load.run, w) for w in range(threads)]
        try:
            yield load
        finally:
            load.stop.set()
            for f in futures:
                f.result()


def assert_valid_stored_once(db: Database, load: Load) -> None:
    assert not load.errors, load.errors[:5]
    assert len(load.answers) >= 20, "the load did not run"
    bad = {k: s for k, s in load.answers.items() if s != 200}
    assert not bad, f"{len(bad)} valid events not answered 200: {list(bad.items())[:5]}"
    with db.connection() as conn:
        counts = {(p, rid): n for p, rid, n in conn.fetchall(
            "SELECT provider, resource_id, count(*) FROM events GROUP BY provider, resource_id")}  # fmt: skip
    for receiver, n in load.answers:
        provider = receiver.split("-")[0]
        assert counts.get((provider, resource_id(receiver, n))) == 1, (receiver, n)


def wait_processed(db: Database, seconds: float = 30) -> None:
    """Until the worker has tried every stored event once (a failing one may wait for a retry)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with db.connection() as conn:
            waiting = conn.scalar("SELECT count(*) FROM jobs WHERE state <> 'parked' AND attempts = 0")
        if waiting == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"{waiting} jobs never tried")


DETAIL_PAGES = (
    ("/api/calls", "calls", "/aircall/calls/{id}"),
    ("/api/bookings", "bookings", "/calendly/bookings/{id}"),
    ("/api/board_items", "items", "/monday/items/{item_id}?account={account}"),
)


def assert_pages_answer(server: Server) -> None:
    """/healthz, the event API and the dashboard's pages (each event's, call's, booking's, item's) answer 200."""
    with server.client() as c:
        assert c.get("/healthz").status_code == 200
    with server.admin() as api:
        events: list[dict[str, Any]] = []
        url: str | None = "/api/events?limit=200"
        while url:
            r = api.get(url)
            assert r.status_code == 200, r.text
            events += r.json()["events"]
            cursor = r.json()["next_cursor"]
            url = f"/api/events?limit=200&cursor={cursor}" if cursor else None
        details = [f"/events/{e['id']}" for e in events]
        for listing, key, page in DETAIL_PAGES:
            r = api.get(listing, params={"limit": 200})
            assert r.status_code == 200, (listing, r.text)
            details += [page.format(**row) for row in r.json()[key]]
        for e in events[:200]:
            assert api.get(f"/api/events/{e['id']}").status_code == 200, e
    with signed_in(server) as dash:
        for path in (*PAGES, *details):
            r = dash.get(path, follow_redirects=True)
            assert r.status_code == 200, (path, r.status_code, r.text[-500:])


def test_hostile_bodies_under_load_are_refused_alone(db: Database, server: Server) -> None:
    register(db)
    answers: list[tuple[str, bytes, int]] = []
    storable: list[tuple[str, bytes, int]] = []
    with valid_load(server) as load, server.client() as c:

        @settings(max_examples=150, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(st.data())
        def hostile(data: st.DataObject) -> None:
            receiver, post = data.draw(refused())
            answers.append((receiver, post.body[:200], post.send(c).status_code))
            receiver, post = data.draw(odd_but_storable())
            storable.append((receiver, post.body[:200], post.send(c).status_code))

        hostile()
        assert len(load.answers) >= 20  # the hostile bodies really met a load
    not_4xx = [a for a in answers if not 400 <= a[2] < 500]
    assert not not_4xx, not_4xx[:5]
    server_errors = [a for a in storable if a[2] >= 500]
    assert not server_errors, server_errors[:5]
    assert {r for r, _, _ in answers} == set(RECEIVERS)
    assert_valid_stored_once(db, load)
    wait_processed(db)
    assert_pages_answer(server)
    log = server.log()
    assert "Traceback" not in log and "unhandled error" not in log


def test_what_a_column_cannot_hold_is_400_naming_the_field(db: Database, server: Server) -> None:
    """Edge validation: NUL, lone surrogates (as a decoded string) and oversized text, per field."""
    register(db)
    cases = [
        ("aircall", "event", "call.\x00created", "event"),
        ("aircall", "event", "x" * 900_000, "event"),
        ("aircall", "data.id", "abc\x00", "data.id"),
        ("aircall", "data.id", "i" * 600, "data.id"),
        ("aircall", "resource", "call\x00", "resource"),
        ("calendly", "event", "invitee.\x00created", "event"),
        ("calendly", "payload.uri", "https://api.calendly.com/x\x00", "payload.uri"),
        ("calendly", "created_at", "2026\x00", "created_at"),
        ("monday-open", "event.type", "create\x00pulse", "event.type"),
        ("monday-open", "event.pulseId", "12\x00", "event.pulseId"),
        ("monday-open", "event.triggerUuid", "u" * 1000, "event.triggerUuid"),
        ("monday-signed", "event.updateId", "\x00", "event.updateId"),
    ]
    with server.client() as c:
        for receiver, name, value, named in cases:
            r = to_receiver(receiver, encode(envelope(receiver, 5, **{name: value}))).send(c)
            assert r.status_code == 400, (receiver, name, r.text)
            assert r.json()["error"] == "invalid_envelope" and named in r.json()["message"], r.json()
        # A NUL inside the payload is kept: the body is stored as bytes, only text columns refuse it.
        for receiver in RECEIVERS:
            r = to_receiver(receiver, encode(envelope(receiver, 6, **{
                f"{PAYLOAD[receiver]}.note": {"deep": ["a\x00b"]}}))).send(c)
            assert r.status_code == 200, (receiver, r.text)
    with db.connection() as conn:
        bodies = [bytes(b) for (b,) in conn.fetchall("SELECT body FROM events ORDER BY id")]
    assert len(bodies) == len(RECEIVERS) and all(b"a\\u0000b" in b for b in bodies)


def _deep(receiver: str, depth: int, n: int = 1) -> bytes:
    """A valid event whose payload holds a list nested so that the whole body is `depth` deep."""
    inner = depth - 2  # inside the envelope object and the payload object
    env = envelope(receiver, n, **{f"{PAYLOAD[receiver]}.nested": "X"})
    return encode(env).replace(b'"X"', b"[" * inner + b"1" + b"]" * inner)


def rejected_total(server: Server, reason: str) -> dict[str, float]:
    with server.client() as c:
        text = c.get("/metrics").text
    found = re.findall(r'hookline_events_rejected_total\{provider="(\w+)",reason="' + reason + r'"\} (\S+)', text)
    return {p: float(v) for p, v in found}


def test_deep_json_is_400_too_deep_counted_and_logged(db: Database, server: Server) -> None:
    register(db)
    with server.client() as c:
        for receiver in RECEIVERS:
            ok = to_receiver(receiver, _deep(receiver, MAX_DEPTH, 7)).send(c)
            assert ok.status_code == 200, (receiver, ok.text)
            for depth in (MAX_DEPTH + 1, 1000, 100_000):
                r = to_receiver(receiver, _deep(receiver, depth)).send(c)
                assert r.status_code == 400, (receiver, depth, r.text)
                assert r.json() == {"error": "too_deep", "message": f"JSON nested deeper than {MAX_DEPTH} levels"}
        # Deeper than any decoder can take: refused before authentication (no token, no signature,
        # an unknown account), since decoding is what authentication needs first.
        unsigned = [Post("/aircall/webhook", _deep("aircall", 5000).replace(TOKEN.encode(), b"nope")),
                    Post("/calendly/webhook", _deep("calendly", 5000)),
                    Post("/monday/webhook?account=nobody", _deep("monday-open", 5000))]  # fmt: skip
        for post in unsigned:
            r = post.send(c)
            assert r.status_code == 400 and r.json()["error"] == "too_deep", (post.path, r.text)
    counted = rejected_total(server, "too_deep")
    assert counted == {"aircall": 4, "calendly": 4, "monday": 7}
    log = server.log()
    assert "Traceback" not in log and "RecursionError" not in log
    assert log.count('"reason": "too_deep"') + log.count('"reason":"too_deep"') == 15


# --- hostile numbers (issue 11 item 2 fixes what pages make of them) --------------------------------------

NUMBERS = [1e20, 2**200, -1e308, 1e308, -(2**63), 2**64, 1.5e12, 0.000001]
TIME_FIELDS = {"aircall": ("timestamp", "data.started_at", "data.answered_at", "data.ended_at"),
               "calendly": ("payload.created_at", "payload.scheduled_event"),
               "monday-open": ("event.triggerTime",), "monday-signed": ("event.triggerTime",)}  # fmt: skip


def _number_posts() -> list[Post]:
    posts = []
    for receiver, names in TIME_FIELDS.items():
        for name in names:
            for i, value in enumerate([*NUMBERS, "inf", "nan", "-inf", "1e999"]):
                posts.append(to_receiver(receiver, encode(envelope(receiver, 1000 + i, **{name: value}))))
            # Non-finite numbers as JSON number literals (not JSON, but some encoders write them).
            for i, literal in enumerate(("Infinity", "NaN", "1e999", "-1e999")):
                body = encode(envelope(receiver, 2000 + i, **{name: "LITERAL"})).replace(
                    b'"LITERAL"', literal.encode())
                posts.append(to_receiver(receiver, body))
    return posts


HOSTILE_NUMBERS = st.one_of(
    st.floats(),  # inf and nan too: json.dumps writes Infinity / NaN, which is not JSON
    st.integers(-(2**300), 2**300),
    st.sampled_from(["inf", "-inf", "nan", "1e999", "9" * 400]),
)


def test_hostile_numbers_never_get_a_5xx_and_valid_events_are_unaffected(db: Database, server: Server) -> None:
    register(db)
    with valid_load(server) as load, server.client() as c:
        answers = [(p.path, p.body[:160], p.send(c).status_code) for p in _number_posts()]

        @settings(max_examples=80, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(st.sampled_from(RECEIVERS).flatmap(lambda r: st.tuples(
            st.just(r), st.sampled_from(TIME_FIELDS[r]), HOSTILE_NUMBERS, st.integers(3000, 9999))))
        def generated(case: tuple[str, str, Any, int]) -> None:
            receiver, name, value, n = case
            post = to_receiver(receiver, encode(envelope(receiver, n, **{name: value})))
            answers.append((post.path, post.body[:160], post.send(c).status_code))

        generated()
    assert not [a for a in answers if a[2] >= 500], [a for a in answers if a[2] >= 500][:5]
    assert_valid_stored_once(db, load)


def test_pages_answer_200_after_hostile_numbers(db: Database, server: Server) -> None:
    """Stored hostile numbers must not break a page (issue 11 item 2: numbers in range)."""
    register(db)
    with server.client() as c:
        for post in _number_posts():
            assert post.send(c).status_code < 500
    wait_processed(db)
    assert_pages_answer(server)
