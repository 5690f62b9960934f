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
