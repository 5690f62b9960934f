"""monday.com's own settings (HOOKLINE_MONDAY_*), read apart from the core's Settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hookline.config import validated


class MondaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOOKLINE_MONDAY_", extra="ignore")

    api_url: str = Field("https://api.monday.com/v2", description="monday.com's GraphQL endpoint")
    jwt_leeway_seconds: float = Field(30, ge=0, description="Clock skew allowed when checking a JWT's exp")


def load() -> MondaySettings:
    return validated(MondaySettings)
