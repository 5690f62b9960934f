"""Aircall's own settings: HOOKLINE_AIRCALL_* variables, or an [aircall] table in hookline.toml.

Kept out of the core Settings so that the core never names a provider.
"""

from __future__ import annotations

import tomllib
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from hookline.config import config_file

DEFAULT_API_URL = "https://api.aircall.io"


class AircallSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOOKLINE_AIRCALL_", extra="ignore")

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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file()
        if path is not None and path.exists():
            with path.open("rb") as handle:
                table = tomllib.load(handle).get("aircall") or {}
            if isinstance(table, dict):
                sources.append(InitSettingsSource(settings_cls, init_kwargs=table))
        return tuple(sources)


def load_aircall_settings(**overrides: Any) -> AircallSettings:
    given = {k: v for k, v in overrides.items() if v is not None}
    return AircallSettings(**given)
