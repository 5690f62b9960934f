"""Forwarding metrics, registered on the runtime's Prometheus registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

TURN_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class ForwardingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "hookline_delivery_attempts",
            "POSTs to destinations, by verdict (succeeded, retrying, dead, gone)",
            ["destination", "verdict"],
            registry=registry,
        )
        self.lag = Histogram(
            "hookline_delivery_lag_seconds",
            "From an event's receipt to its successful delivery (live deliveries, retries included)",
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.turn = Histogram(
            "hookline_dispatcher_turn_seconds",
            "One dispatcher turn in the database: record outcomes and claim due deliveries",
            buckets=TURN_BUCKETS,
            registry=registry,
        )
        self.claimed = Counter("hookline_dispatcher_claimed", "Deliveries claimed for sending", registry=registry)
