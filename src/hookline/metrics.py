"""Prometheus metrics. One registry per Runtime so tests can run several servers in one process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest

disable_created_metrics()  # the *_created series only add noise to every counter

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "hookline_events_received",
            "Events accepted (new and duplicates)",
            ["provider", "event"],
            registry=r,
        )
        self.rejected = Counter(
            "hookline_events_rejected", "Requests refused by a receiver", ["provider", "reason"], registry=r
        )
        self.duplicates = Counter(
            "hookline_events_duplicate", "Events received again and stored once", ["provider"], registry=r
        )
        self.batch_size = Histogram(
            "hookline_commit_batch_size", "Events per group commit", buckets=BATCH_BUCKETS, registry=r
        )
        self.commit_seconds = Histogram(
            "hookline_commit_seconds",
            "Time to write and commit one batch",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ack_latency = Histogram(
            "hookline_ack_latency_seconds",
            "From the request's last body byte to the 2xx answer",
            ["provider"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

        self.auth_failures = Counter(
            "hookline_auth_failures",
            "Wrong admin tokens presented, by where (login: the dashboard's sign-in, api: Bearer)",
            ["surface"],
            registry=r,
        )
        self.request_timeouts = Counter(
            "hookline_http_request_timeouts",
            "Requests answered 408 and closed because their head or body did not arrive in time (http_protocol.py)",
            ["part"],
            registry=r,
        )
        self.auth_throttled = Counter(
            "hookline_auth_throttled",
            "Requests refused with 429 after too many wrong admin tokens from their address",
            ["surface"],
            registry=r,
        )

    def request_timed_out(self, part: str) -> None:
        """A 408 sent by the server's protocol: `part` is header or body."""
        self.request_timeouts.labels(part).inc()

    def observe_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.commit_seconds.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
