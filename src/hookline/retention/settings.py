"""Retention settings: HOOKLINE_RETENTION_* variables, or a [retention] table in hookline.toml.

Ages are in days; 0 keeps that kind of data forever (the default). Projections (calls, bookings,
board items) have no policy: they are kept.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hookline.config import TableSettings


class RetentionSettings(TableSettings):
    model_config = SettingsConfigDict(env_prefix="HOOKLINE_RETENTION_", extra="ignore")
    toml_table = "retention"

    events_days: float = Field(0, ge=0, description="Delete raw events received longer ago (0: keep forever)")
    deliveries_days: float = Field(
        0, ge=0, description="Delete finished deliveries (succeeded or dead) created longer ago (0: keep)"
    )
    automation_runs_days: float = Field(
        0, ge=0, description="Delete finished automation runs created longer ago (0: keep)"
    )
    timeline_days: float = Field(0, ge=0, description="Delete call timeline rows older than this (0: keep)")
    batch_size: int = Field(1000, gt=0, le=100_000, description="Most rows deleted per transaction")
    batch_seconds: float = Field(
        0.001, ge=0, description="Aim for transactions this short: the batch size adapts (0: always batch_size)"
    )
    # 0.5: the purge's share of the CPU is small enough that ingest's p99 stays put (~200 events a second;
    # 0.05 purged ~1,650 a second and doubled PostgreSQL's p99 on 2 cores: bench/README.md).
    pause_seconds: float = Field(0.5, ge=0, description="Pause between two batches, so ingest never waits long")
    interval_seconds: float = Field(3600.0, gt=0, description="Time between two retention passes of the loop")


def load_retention_settings(**overrides: Any) -> RetentionSettings:
    given = {k: v for k, v in overrides.items() if v is not None}
    return RetentionSettings(**given)
