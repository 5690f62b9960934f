"""Settings from HOOKLINE_* environment variables and an optional hookline.toml.

Precedence, highest first: explicit arguments (CLI flags), environment, hookline.toml, defaults.
The TOML file is read from HOOKLINE_CONFIG when set, else ./hookline.toml when it exists.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_DATABASE_URL = "sqlite:///data/hookline.sqlite3"


def config_file() -> Path | None:
    explicit = os.environ.get("HOOKLINE_CONFIG")
    if explicit:
        return Path(explicit)
    default = Path("hookline.toml")
    return default if default.exists() else None


class Settings(BaseSettings):
    """Every setting hookline reads. Each field maps to HOOKLINE_<NAME> and to `name` in hookline.toml."""

    model_config = SettingsConfigDict(env_prefix="HOOKLINE_", extra="ignore")

    database_url: str = Field(DEFAULT_DATABASE_URL, description="sqlite:///path or postgresql://...")
    admin_token: SecretStr | None = Field(None, description="Bearer token for /api and the dashboard")
    host: str = Field("127.0.0.1", description="Address `serve` listens on")
    port: int = Field(8080, ge=0, le=65535, description="Port `serve` listens on")
    body_limit: int = Field(1024 * 1024, gt=0, description="Largest accepted webhook body, in bytes")
    log_format: Literal["console", "json"] = Field("console", description="Log output format")
    log_level: str = Field("info", description="debug, info, warning or error")
    commit_batch_max: int = Field(1000, gt=0, description="Most events written in one group commit")
    token_cache_seconds: float = Field(
        2.0, ge=0, description="How long an unknown webhook token is remembered as unknown"
    )
    public_url: str | None = Field(
        None, description="The https URL providers reach this hookline at (used to recognise own webhooks)"
    )
    # Dashboard sessions (docs/dashboard.md).
    dashboard_session_cache_seconds: float = Field(
        1.0, ge=0, le=60, description="How long a process trusts a session lookup (sign-out elsewhere lags by this)"
    )
    dashboard_session_idle_seconds: float = Field(
        0.0, ge=0, description="Sign a dashboard session out after this long unused (0: only the 12 h expiry)"
    )
    # The pipeline worker (docs/pipeline.md).
    worker: bool = Field(True, description="Run a pipeline worker inside `serve` (`serve --no-worker` overrides)")
    worker_batch: int = Field(200, gt=0, le=5000, description="Most jobs a worker claims and processes at once")
    worker_lease_seconds: float = Field(
        30.0, gt=0, description="How long a claim holds its jobs; renewed while they run"
    )
    worker_job_timeout: float = Field(
        120.0, gt=0, description="A batch running longer loses its lease renewals (and is taken over)"
    )
    worker_max_attempts: int = Field(10, gt=0, description="Attempts before a failing event's job is parked")
    worker_backoff_seconds: float = Field(2.0, ge=0, description="First retry delay; doubles each attempt")
    worker_backoff_max_seconds: float = Field(3600.0, ge=0, description="Longest retry delay")
    worker_poll_seconds: float = Field(
        1.0, gt=0, description="Idle poll interval under the wake-ups (retries coming due, expired leases)"
    )
    secret_key: SecretStr | None = Field(
        None, description="Encrypts stored provider credentials (any long random string; keep it safe)"
    )

    # Forwarding to destinations (hookline.forwarding).
    forwarding_dispatcher: bool = Field(
        True, description="Run the forwarding dispatcher inside `serve` (off when a separate worker runs it)"
    )
    delivery_timeout_seconds: float = Field(10.0, gt=0, description="Timeout of one POST to a destination")
    delivery_concurrency: int = Field(16, gt=0, description="Most requests in flight to one destination")
    delivery_max_attempts: int = Field(20, gt=0, description="Attempts before a delivery is dead-lettered")
    delivery_max_age_seconds: float = Field(
        86400.0, gt=0, description="Retry a failing delivery for at most this long, then dead-letter it"
    )
    delivery_backoff_base_seconds: float = Field(
        5.0, gt=0, description="First retry delay; doubles per attempt, with jitter"
    )
    delivery_backoff_max_seconds: float = Field(3600.0, gt=0, description="Longest delay between retries")
    delivery_breaker_threshold: int = Field(
        5, gt=0, description="Consecutive failures that open a destination's circuit breaker"
    )
    delivery_breaker_cooldown_seconds: float = Field(
        30.0, gt=0, description="How long an open breaker waits before one probe request"
    )
    delivery_poll_seconds: float = Field(
        1.0, gt=0, description="How often the dispatcher looks for due deliveries when nothing woke it"
    )
    outbound_deny_cidrs: str = Field(
        "169.254.0.0/16,fe80::/10,fd00:ec2::254/128",
        description="Networks hookline never sends to (comma-separated CIDRs; link-local and cloud metadata)",
    )

    # Hardening at the edge (docs/operations.md, "Security").
    body_timeout_seconds: float = Field(
        10.0, gt=0, description="A request whose head and body have not fully arrived in this time gets 408 (closed)"
    )
    auth_failures_per_minute: int = Field(
        10, gt=0, description="Wrong admin tokens (sign-in or Bearer) one client address may send a minute; then 429"
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Proxies trusted for X-Forwarded-For/-Proto (comma-separated addresses or CIDRs, or *)",
    )
    automations_concurrency: int = Field(16, gt=0, description="Most automation runs executing at once per process")
    automations_max_attempts: int = Field(8, gt=0, description="Attempts before a run that keeps failing is parked")
    automations_backoff_seconds: float = Field(1.0, gt=0, description="First delay before a failed run is retried")
    automations_backoff_max_seconds: float = Field(600.0, gt=0, description="Longest delay between a run's retries")
    automations_timeout_seconds: float = Field(10.0, gt=0, description="Time limit of one step's request")
    automations_lease_seconds: float = Field(
        60.0, gt=0, description="How long a claimed run stays with its executor without a renewal"
    )

    @field_validator("admin_token", "secret_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("outbound_deny_cidrs")
    @classmethod
    def _cidrs(cls, value: str) -> str:
        from hookline.outbound import parse_cidrs

        parse_cidrs(value)  # a ValueError names the bad entry
        return value

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
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Settings with CLI overrides applied (None means "not given")."""
    return validated(Settings, **overrides)


class SettingsError(ValueError):
    """Settings that cannot be used: one plain line per problem (`setting HOOKLINE_PORT: must be an
    integer (got 'abc')`), never pydantic's raw text."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


S = TypeVar("S", bound=BaseSettings)

# What pydantic's error types mean, in the words of someone setting a variable.
_PLAIN = {
    "int_parsing": "must be an integer",
    "int_type": "must be an integer",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "missing": "is required",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "literal_error": "must be one of {expected}",
}
# Values that may hold a secret are never echoed.
_SECRET_WORDS = ("token", "secret", "key", "password", "database_url")


def validated(cls: type[S], **overrides: Any) -> S:
    """cls(**overrides) (None means "not given"), with every problem as a SettingsError."""

    from pydantic import ValidationError
    from pydantic_settings import SettingsError as SourceError

    prefix = str(cls.model_config.get("env_prefix") or "")
    try:
        return cls(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise SettingsError([_line(prefix, error) for error in exc.errors()]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([f"config file {config_file()}: not valid TOML ({exc})"]) from None
    except (SourceError, OSError) as exc:
        raise SettingsError([f"settings: {exc}"]) from None


def _line(prefix: str, error: Any) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    name = f"{prefix}{loc[0]}".upper() if loc else prefix.rstrip("_")
    where = name + "".join(f"[{part}]" for part in loc[1:])
    template = _PLAIN.get(error.get("type", ""))
    if template is not None:
        try:
            ctx = {k: f"{v:g}" if isinstance(v, float) else v for k, v in (error.get("ctx") or {}).items()}
            said = template.format(**ctx)
        except (KeyError, IndexError):
            said = template.split(" {", 1)[0]
    else:
        said = str(error.get("msg", "is not valid"))
        said = said.removeprefix("Value error, ").replace("Input should be", "must be")
    shown = ""
    if "input" in error and error.get("type") != "missing" and not any(w in name.lower() for w in _SECRET_WORDS):
        value = error["input"]
        if isinstance(value, str | int | float | bool):
            shown = f" (got {value!r})"
    return f"setting {where}: {said}{shown}"


class TableSettings(BaseSettings):
    """Settings from the environment, then from one table of hookline.toml (`toml_table`): what a
    provider or a component keeps out of the core Settings (e.g. [aircall], [recordings], [retention])."""

    toml_table: ClassVar[str]

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
                table = tomllib.load(handle).get(cls.toml_table) or {}
            if isinstance(table, dict):
                sources.append(InitSettingsSource(settings_cls, init_kwargs=table))
        return tuple(sources)
