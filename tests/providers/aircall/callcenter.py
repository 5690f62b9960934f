"""A generated call-center day: agents coming and going, calls with full lifecycles, contacts updated
and deleted, conversation-intelligence results and messages, as Aircall webhook bodies.

Built from the catalog's samples (make_call, make_user...). Several events share a timestamp on
purpose (hungup and ended in the same second, tagged and commented together) so that the lifecycle
ranks, not the arrival order, decide.
"""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Sequence
from typing import Any

from hookline.pipeline.handlers import StoredEvent
from hookline.providers.aircall.catalog import lookup
from hookline.testing.aircall.samples import (
    BASE_TIMESTAMP,
    make_call,
    make_contact,
    make_number,
    make_tag,
    sample_event,
)
from hookline.testing.aircall.samples import make_user as sample_user

Json = dict[str, Any]


def envelope(event: str, ts: int, data: Json) -> Json:
    spec = lookup(event)
    assert spec is not None, event
    return {"resource": spec.resource, "event": event, "timestamp": ts, "token": "tok", "data": data}


def make_user(rng: random.Random, id: int) -> Json:
    return sample_user(rng, id, v2=True)


def call_center_day(seed: int, *, agents: int = 3, calls: int = 6, contacts: int = 4) -> list[Json]:
    rng = random.Random(seed)
    t0 = BASE_TIMESTAMP
    out: list[Json] = []
    numbers = [make_number(rng, 500 + i) for i in range(2)]
    for n in numbers:
        out.append(envelope("number.created", t0 - 86400, n))
        out.append(envelope("number.closed", t0 + 5000, dict(n, open=False, availability_status="closed")))

    people = [make_user(rng, 100 + i) for i in range(agents)]
    for i, a in enumerate(people):
        out.append(envelope("user.created.v2", t0 - 3600 + i, a))
        out.append(envelope("user.connected.v2", t0 + i, a))
        out.append(envelope("user.disconnected.v2", t0 + 6000 + i,
                            dict(a, available=False, availability_status="unavailable", substatus="always_closed")))

    book = []
    for i in range(contacts):
        created = t0 - 1000 + i * 10
        c = make_contact(rng, 9000 + i, updated_at=created)
        book.append(c)
        out.append(envelope("contact.created", created, c))
        updated = dict(c, company_name=f"Renamed {i}", updated_at=c["updated_at"])
        out.append(envelope("contact.updated", created + 100, updated))
        if rng.random() < 0.5:
            out.append(envelope("contact.deleted", created + 200, updated))
            # A late update stamped before the deletion: must not bring the contact back.
            out.append(envelope("contact.updated", created + 150, dict(c, company_name="Stale")))
            # ... and an update in the very second of the deletion loses to it too.
            out.append(envelope("contact.updated", created + 200, dict(c, company_name="Same second")))

    tags = [make_tag(rng, 70 + i) for i in range(2)]
    for i in range(calls):
        agent = rng.choice(people)
        contact = rng.choice([*book, None])
        number = rng.choice(numbers)
        call_id = 1_900_000_000 + i
        start = t0 + 300 + i * 97 + rng.randint(0, 60)
        answered = rng.random() < 0.7
        call_seed = rng.randint(0, 2**32)

        # The same seed at every stage: one call, consistent durations and ids throughout.
        fixed = {"number": number, "contact": contact, "started_at": start}

        def snap(status: str, *, user: Json | None = agent, answered: bool = answered, seed: int = call_seed,
                 call_id: int = call_id, fixed: Json = fixed, **extra: Any) -> Json:
            return make_call(random.Random(seed), call_id, user=user, status=status, answered=answered,
                             **fixed, **extra)

        done = snap("done", recording=answered)
        end = int(done["ended_at"])
        out.append(envelope("call.created", start, snap("initial", user=None)))
        out.append(envelope("call.ringing_on_agent", start + 1, snap("initial")))
        if answered:
            out.append(envelope("call.answered", int(done["answered_at"]), snap("answered")))
            out.append(envelope("user.wut_start.v2", end + 1, dict(agent, last_call_id=call_id)))
            out.append(envelope("user.wut_end.v2", end + 16, dict(agent, last_call_id=call_id)))
        else:
            out.append(envelope("call.agent_declined", start + 3, snap("initial")))
        out.append(envelope("call.hungup", end, snap("done")))
        out.append(envelope("call.ended", end + rng.choice((0, 0, 25)), done))  # often the same second
        if rng.random() < 0.6:
            after = end + 40
            out.append(envelope("call.tagged", after, snap("done", recording=answered, tags=tags[:1])))
            out.append(envelope("call.commented", after + rng.choice((0, 1)), snap(
                "done", recording=answered, tags=tags[:1],
                comments=[{"id": call_id * 10, "content": "Call back Friday", "posted_at": after}])))
        if answered:
            r = random.Random(call_seed + 1)
            for k, event in enumerate(("transcription.created", "summary.created", "sentiment.created")):
                out.append(sample_event(event, rng=r, timestamp=end + 120 + k, call_id=call_id,
                                        id=call_id * 100 + k))

    for i in range(3):
        ts = t0 + 2000 + i * 30
        r = random.Random(seed * 31 + i)
        message_id = f"msg-{seed}-{i}"
        out.append(sample_event("message.sent", rng=r, timestamp=ts, id=message_id, status="sent"))
        out.append(sample_event("message.status_updated", rng=r, timestamp=ts + 4, id=message_id,
                                status="delivered"))
    return out


def with_ids(bodies: Sequence[Json]) -> list[tuple[int, Json]]:
    """Events numbered as a log would number them on first arrival (so duplicates share an id)."""
    return [(i + 1, b) for i, b in enumerate(bodies)]


def stored(event_id: int, body: Json, *, account: str = "acme", origin: str = "webhook") -> StoredEvent:
    return StoredEvent(
        id=event_id,
        provider="aircall",
        account=account,
        event=body["event"],
        origin=origin,
        occurred_at=body.get("timestamp"),
        received_at=time.time(),
        body=json.dumps(body).encode(),
    )


def shuffled_with_duplicates(events: Sequence[Any], rng: random.Random, dup_rate: float = 0.3) -> list[Any]:
    out = list(events) + [copy.deepcopy(e) for e in events if rng.random() < dup_rate]
    rng.shuffle(out)
    return out
