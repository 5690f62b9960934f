"""Settings: defaults, hookline.toml, environment, in that order of strength."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookline.config import DEFAULT_DATABASE_URL, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("HOOKLINE_DATABASE_URL", "HOOKLINE_ADMIN_TOKEN", "HOOKLINE_PORT", "HOOKLINE_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    s = load_settings()
    assert s.database_url == DEFAULT_DATABASE_URL and s.port == 8080 and s.body_limit == 1024 * 1024
    assert s.admin_token is None and s.host == "127.0.0.1"


def test_toml_then_env_then_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOOKLINE_CONFIG", raising=False)
    (tmp_path / "hookline.toml").write_text('port = 9001\nbody_limit = 4096\nlog_format = "json"\n')
    monkeypatch.setenv("HOOKLINE_BODY_LIMIT", "8192")
    s = load_settings()
    assert (s.port, s.body_limit, s.log_format) == (9001, 8192, "json")
    assert load_settings(port=9002, host=None).port == 9002


def test_admin_token_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOKLINE_ADMIN_TOKEN", "very-secret-admin")
    s = load_settings()
    assert "very-secret-admin" not in repr(s) and s.admin_token is not None
    assert s.admin_token.get_secret_value() == "very-secret-admin"


def test_edge_settings_from_toml_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from hookline.config import SettingsError

    monkeypatch.chdir(tmp_path)
    for var in ("HOOKLINE_CONFIG", "HOOKLINE_BODY_TIMEOUT_SECONDS", "HOOKLINE_AUTH_FAILURES_PER_MINUTE",
                "HOOKLINE_FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(var, raising=False)
    s = load_settings()
    assert (s.body_timeout_seconds, s.auth_failures_per_minute, s.forwarded_allow_ips) == (10.0, 10, "127.0.0.1")
    (tmp_path / "hookline.toml").write_text(
        'body_timeout_seconds = 2.5\nauth_failures_per_minute = 5\nforwarded_allow_ips = "10.0.0.0/8"\n'
    )
    s = load_settings()
    assert (s.body_timeout_seconds, s.auth_failures_per_minute, s.forwarded_allow_ips) == (2.5, 5, "10.0.0.0/8")
    monkeypatch.setenv("HOOKLINE_BODY_TIMEOUT_SECONDS", "4")
    assert load_settings().body_timeout_seconds == 4.0
    for bad in ("0", "-1"):
        monkeypatch.setenv("HOOKLINE_BODY_TIMEOUT_SECONDS", bad)
        with pytest.raises(SettingsError, match="HOOKLINE_BODY_TIMEOUT_SECONDS: must be greater than 0"):
            load_settings()


def test_an_admin_token_under_24_characters_is_weak(monkeypatch: pytest.MonkeyPatch) -> None:
    from hookline.web.admin_token import is_weak

    monkeypatch.setenv("HOOKLINE_ADMIN_TOKEN", "x" * 23)
    assert is_weak(load_settings())
    monkeypatch.setenv("HOOKLINE_ADMIN_TOKEN", "x" * 24)
    assert not is_weak(load_settings())
    monkeypatch.delenv("HOOKLINE_ADMIN_TOKEN")
    assert not is_weak(load_settings(admin_token=None))  # generated tokens are long


def test_every_provider_reads_its_own_table_the_same_way(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Provider.settings(): HOOKLINE_<NAME>_* variables first, then the [<name>] table of hookline.toml."""
    from hookline.config import SettingsError
    from hookline.providers.registry import providers

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOOKLINE_CONFIG", raising=False)
    (tmp_path / "hookline.toml").write_text(
        '[aircall]\napi_url = "http://aircall.test"\n[calendly]\napi_url = "http://calendly.test"\n'
        'tolerance_seconds = 60\n[monday]\napi_url = "http://monday.test/v2"\njwt_leeway_seconds = 5\n'
    )
    monkeypatch.setenv("HOOKLINE_MONDAY_JWT_LEEWAY_SECONDS", "7")
    by_name = {p.name: p.settings() for p in providers()}
    assert {n: getattr(s, "api_url", None) for n, s in by_name.items() if n in ("aircall", "calendly", "monday")} == {
        "aircall": "http://aircall.test", "calendly": "http://calendly.test", "monday": "http://monday.test/v2"}
    assert getattr(by_name["calendly"], "tolerance_seconds", None) == 60
    assert getattr(by_name["monday"], "jwt_leeway_seconds", None) == 7  # the variable wins
    (tmp_path / "hookline.toml").write_text("[calendly]\ntolerance_seconds = -1\n")
    with pytest.raises(SettingsError, match="HOOKLINE_CALENDLY_TOLERANCE_SECONDS"):
        next(p for p in providers() if p.name == "calendly").check_settings()
