"""Forwarding rules that need no server: patterns, secrets, retry policy, Retry-After."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from hookline.forwarding import patterns, signing
from hookline.forwarding.policy import Attempt, RetryPolicy
from hookline.retry_after import parse_retry_after

POLICY = RetryPolicy(max_attempts=5, max_age=100.0, backoff_base=1.0, backoff_max=8.0)


@pytest.mark.parametrize(
    ("pattern", "provider", "event", "expected"),
    [
        ("*", "aircall", "call.created", True),
        ("call.*", "aircall", "call.created", True),
        ("call.*", "calendly", "call.created", True),
        ("call.*", "aircall", "contact.created", False),
        ("aircall:call.*", "aircall", "call.ended", True),
        ("aircall:call.*", "calendly", "call.ended", False),
        ("calendly:invitee.*", "calendly", "invitee.created", True),
        ("call.ended", "aircall", "call.ended_x", False),
        ("*:user.*", "monday", "user.created", True),
    ],
)
def test_patterns(pattern: str, provider: str, event: str, expected: bool) -> None:
    assert patterns.EventPatterns([patterns.validate(pattern)]).matches(provider, event) is expected


@pytest.mark.parametrize("bad", ["", " ", ":call.*", "aircall:", "call created", "call;drop"])
def test_bad_patterns(bad: str) -> None:
    with pytest.raises(ValueError):
        patterns.validate(bad)


def test_secrets_generate_validate_mask_sign() -> None:
    secret = signing.generate_secret()
    assert signing.validate_secret(secret) == secret
    assert signing.mask(secret) == "whsec_…" + secret[-4:] and secret[6:-4] not in signing.mask(secret)
    for bad in ("plain", "whsec_", "whsec_***", "whsec_c2hvcnQ="):
        with pytest.raises(ValueError) as info:
            signing.validate_secret(bad)
        assert bad[6:] == "" or bad[6:] not in str(info.value)
    body = b'{"a":1}'
    import time

    headers = signing.Signer(secret).headers("msg_1", body, time.time())
    assert Webhook(secret).verify(body, headers) == {"a": 1}


def test_success_and_gone() -> None:
    assert POLICY.decide(Attempt(204), 1, 0, 1).verdict == "succeeded"
    gone = POLICY.decide(Attempt(410), 1, 0, 1)
    assert gone.verdict == "gone" and "410" in (gone.error or "")


def test_backoff_grows_with_jitter_and_a_cap() -> None:
    for attempts, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)):
        delays = [POLICY.backoff(attempts) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not fixed
    d = POLICY.decide(Attempt(503), 2, 0.0, 10.0)
    assert d.verdict == "retrying" and 11.0 <= (d.next_attempt_at or 0) <= 12.0 and d.error == "HTTP 503"


def test_retry_after_overrides_backoff_but_is_capped() -> None:
    d = POLICY.decide(Attempt(429, retry_after=30.0), 1, 0.0, 10.0)
    assert d.next_attempt_at == 40.0
    long = RetryPolicy(5, 1e9, 1.0, 8.0).decide(Attempt(503, retry_after=1e7), 1, 0.0, 0.0)
    assert long.next_attempt_at == 3600.0


def test_dead_after_max_attempts_or_max_age() -> None:
    assert POLICY.decide(Attempt(None, "timed out"), 5, 0.0, 1.0).verdict == "dead"
    assert POLICY.decide(Attempt(None, "timed out"), 4, 0.0, 1.0).verdict == "retrying"
    old = POLICY.decide(Attempt(500), 2, 0.0, 99.5)
    assert old.verdict == "dead" and "gave up after 99 s" in (old.error or "")


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", 0) == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 - 60) == 60.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 + 60) == 0.0
    for junk in (None, "", "soon", "-5", "1.5e3"):
        assert parse_retry_after(junk, 0) is None
