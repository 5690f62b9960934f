"""Aircall's own settings: HOOKLINE_AIRCALL_* variables, or an [aircall] table in hookline.toml;
and the recordings archive's: HOOKLINE_RECORDINGS_* variables, or a [recordings] table.

Kept out of the core Settings so that the core never names a provider.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from hookline.config import TableSettings, validated

DEFAULT_API_URL = "https://api.aircall.io"


class AircallSettings(TableSettings):
    model_config = SettingsConfigDict(env_prefix="HOOKLINE_AIRCALL_", extra="ignore")
    toml_table = "aircall"

    api_url: str = Field(DEFAULT_API_URL, description="Aircall Public API base URL (the client appends /v1)")
    watchdog_interval: float = Field(
        300.0, ge=0, description="Seconds between watchdog passes inside `serve`; 0 disables the watchdog"
    )
    backfill_margin: float = Field(
        600.0, ge=0, description="Seconds before the last received event where a watchdog backfill starts"
    )
    backfill_max_lookback: float = Field(
        12 * 3600.0, gt=0, description="The longest window a watchdog backfill reads (Aircall retries for 12 h)"
    )


class RecordingsSettings(TableSettings):
    """The recordings archive (docs/providers/aircall.md#recordings). No directory: no archive."""

    model_config = SettingsConfigDict(env_prefix="HOOKLINE_RECORDINGS_", extra="ignore")
    toml_table = "recordings"

    dir: Path | None = Field(
        None, description="Where call recordings and voicemails are archived; unset disables the archive"
    )
    max_attempts: int = Field(8, gt=0, description="Download attempts before a recording is parked")
    backoff_seconds: float = Field(30.0, ge=0, description="First retry delay; doubles each attempt")
    backoff_max_seconds: float = Field(3600.0, ge=0, description="Longest retry delay")
    concurrency: int = Field(2, gt=0, le=32, description="Downloads in flight at once per process")
    lease_seconds: float = Field(120.0, gt=0, description="How long a claim holds a download; renewed while it runs")
    timeout_seconds: float = Field(300.0, gt=0, description="Longest one download may take")
    max_bytes: int = Field(512 * 1024 * 1024, gt=0, description="Largest file accepted")
    poll_seconds: float = Field(2.0, gt=0, description="How often the archiver looks for due downloads")

    @field_validator("dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


def load_aircall_settings(**overrides: Any) -> AircallSettings:
    return validated(AircallSettings, **overrides)


def load_recordings_settings(**overrides: Any) -> RecordingsSettings:
    return validated(RecordingsSettings, **overrides)
