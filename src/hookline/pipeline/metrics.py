"""Pipeline metrics, registered on the runtime's Prometheus registry (once per runtime)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Histogram

from hookline.runtime import Runtime

LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass(frozen=True)
class PipelineMetrics:
    done: Counter
    retried: Counter
    parked: Counter
    lag: Histogram


def pipeline_metrics(runtime: Runtime) -> PipelineMetrics:
    found: PipelineMetrics | None = runtime.state.get("pipeline.metrics")
    if found is None:
        r = runtime.metrics.registry
        found = PipelineMetrics(
            done=Counter("hookline_jobs_done", "Jobs processed (their events' effects committed)", registry=r),
            retried=Counter("hookline_jobs_retried", "Job failures that will be retried", registry=r),
            parked=Counter("hookline_jobs_parked", "Jobs parked after their last attempt", registry=r),
            lag=Histogram(
                "hookline_pipeline_lag_seconds",
                "From an event's receipt to its job's completion",
                buckets=LAG_BUCKETS,
                registry=r,
            ),
        )
        runtime.state["pipeline.metrics"] = found
    return found
