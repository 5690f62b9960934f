"""The Aircall receiver's parse never fails with anything but a Rejection, whatever the body."""

from __future__ import annotations

import asyncio
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookline.providers.aircall.receiver import AircallReceiver
from hookline.providers.aircall.tokens import TokenCache, TokenStore
from hookline.store.engine import Database
from hookline.types import IncomingEvent, Rejection

TOKEN = "fuzz-token-0123456789abcdef"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "event": st.one_of(st.text(max_size=30), json_values),
        "resource": json_values,
        "timestamp": json_values,
        "token": st.one_of(st.just(TOKEN), json_values),
        "data": json_values,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=200), envelopes.map(lambda e: json.dumps(e).encode())))
def test_parse_answers_or_rejects(db: Database, body: bytes) -> None:
    TokenStore(db).add(TOKEN, "acme")
    receiver = AircallReceiver(TokenCache(db, ttl=60))
    try:
        result = asyncio.run(receiver.parse({}, body, 0.0))
    except Rejection as rej:
        assert rej.status in (400, 401)
        return
    assert isinstance(result, IncomingEvent)
    assert result.account == "acme" and result.body == body and result.dedup_key
