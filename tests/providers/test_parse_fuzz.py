"""The Calendly and monday.com receivers answer any body with an event, a Reply or a Rejection:
never another exception (which would be a 500). Signed or JWT-carrying, so parsing is reached."""

from __future__ import annotations

import asyncio
import json
import time

import jwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookline.provider import Reply
from hookline.providers.calendly import signature
from hookline.providers.calendly.accounts import AccountStore as CalendlyAccounts
from hookline.providers.calendly.keys import KeyCache, KeyStore
from hookline.providers.calendly.receiver import CalendlyReceiver
from hookline.providers.monday.accounts import AccountCache
from hookline.providers.monday.accounts import AccountStore as MondayAccounts
from hookline.providers.monday.receiver import MondayReceiver
from hookline.secretbox import SecretBox
from hookline.store.engine import Database
from hookline.types import IncomingEvent, Rejection

BOX = SecretBox(None)  # the servers and CLIs of these tests run without HOOKLINE_SECRET_KEY

KEY = "fuzz-calendly-signing-key-0123456789"
SECRET = "fuzz-monday-signing-secret-0123456789-0123456789-0123456789-0123"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
calendly_bodies = st.fixed_dictionaries(
    {},
    optional={"event": json_values | st.sampled_from(["invitee.created"]), "created_at": json_values,
              "created_by": json_values, "payload": json_values | st.fixed_dictionaries({"uri": json_values})},
).map(lambda d: json.dumps(d).encode())  # fmt: skip
monday_events = st.fixed_dictionaries(
    {},
    optional={"type": json_values | st.just("create_pulse"), "pulseId": json_values, "boardId": json_values,
              "triggerTime": json_values, "triggerUuid": json_values, "updateId": json_values, "columnId": json_values},
)  # fmt: skip
monday_bodies = st.fixed_dictionaries(
    {}, optional={"challenge": json_values, "event": monday_events | json_values}
).map(lambda d: json.dumps(d).encode())
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=st.one_of(st.binary(max_size=200), calendly_bodies))
def test_calendly_parse_answers_or_rejects(db: Database, body: bytes) -> None:
    if not KeyStore(db, BOX).entries():
        CalendlyAccounts(db, BOX).add("acme", "token-0123456789abcdef", None, None)
        KeyStore(db, BOX).add("acme", KEY)
    receiver = CalendlyReceiver(KeyCache(db, 60, BOX), tolerance_seconds=180)
    now = int(time.time())
    headers = {signature.HEADER: signature.header_value(KEY, now, body)}
    try:
        result = asyncio.run(receiver.parse(headers, body, float(now)))
    except Rejection as rej:
        assert rej.status == 400
        return
    assert isinstance(result, IncomingEvent) and result.account == "acme" and result.dedup_key


@FUZZ
@given(body=st.one_of(st.binary(max_size=200), monday_bodies))
def test_monday_parse_answers_or_rejects(db: Database, body: bytes) -> None:
    if not MondayAccounts(db, BOX).all():
        MondayAccounts(db, BOX).add("acme", "token-0123456789abcdef", SECRET, None)
    receiver = MondayReceiver(AccountCache(db, 60, BOX))
    token = jwt.encode({"exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    try:
        result = asyncio.run(receiver.parse({"authorization": token, ":query": "account=acme"}, body, 0.0))
    except Rejection as rej:
        assert rej.status == 400
        return
    assert isinstance(result, IncomingEvent | Reply)
    if isinstance(result, IncomingEvent):
        assert result.account == "acme" and result.dedup_key
