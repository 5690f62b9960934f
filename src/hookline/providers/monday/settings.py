"""monday.com's own settings (HOOKLINE_MONDAY_*), or a [monday] table in hookline.toml,
read apart from the core's Settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hookline.config import TableSettings, validated


class MondaySettings(TableSettings):
    model_config = SettingsConfigDict(env_prefix="HOOKLINE_MONDAY_", extra="ignore")
    toml_table = "monday"

    api_url: str = Field("https://api.monday.com/v2", description="monday.com's GraphQL endpoint")
    jwt_leeway_seconds: float = Field(30, ge=0, description="Clock skew allowed when checking a JWT's exp")


def load() -> MondaySettings:
    return validated(MondaySettings)
