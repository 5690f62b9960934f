"""Calendly's own settings (HOOKLINE_CALENDLY_*), or a [calendly] table in hookline.toml,
read apart from the core's Settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hookline.config import TableSettings, validated


class CalendlySettings(TableSettings):
    model_config = SettingsConfigDict(env_prefix="HOOKLINE_CALENDLY_", extra="ignore")
    toml_table = "calendly"

    api_url: str = Field("https://api.calendly.com", description="Base URL of Calendly's API v2")
    tolerance_seconds: float = Field(
        180, gt=0, description="Largest accepted age (or clock skew) of a signature timestamp, seconds"
    )
    watchdog_interval_seconds: float = Field(
        300, ge=0, description="How often `serve` checks managed subscriptions (0 turns the watchdog off)"
    )
    backfill_lookback_seconds: float = Field(
        86400, ge=0, description="How far before a gap the backfill looks for meetings (by start time)"
    )


def load() -> CalendlySettings:
    return validated(CalendlySettings)
