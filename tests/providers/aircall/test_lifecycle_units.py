"""The pure parts of the webhook lifecycle, and that every command and setting is documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from hookline.providers.aircall.backfill import parse_resources
from hookline.providers.aircall.catalog import CATALOG
from hookline.providers.aircall.cli import app
from hookline.providers.aircall.settings import AircallSettings, load_aircall_settings
from hookline.providers.aircall.synced import record_digest, synced_event
from hookline.providers.aircall.watchdog import Watchdog
from hookline.providers.aircall.webhooks import WebhookInputError, check_url, expand_events, view
from hookline.secretbox import SecretBox, SecretBoxError
from tests.support import ROOT

DOC = (ROOT / "docs/providers/aircall.md").read_text()


def test_every_command_and_setting_is_documented() -> None:
    root: Any = typer.main.get_command(app)
    lifecycle = {"account", "webhooks", "ping", "backfill", "watchdog", "incidents"}
    assert lifecycle <= set(root.commands)
    for name, command in root.commands.items():
        if name not in lifecycle:
            continue
        subs = getattr(command, "commands", None) or {"": command}
        for sub, cmd in subs.items():
            usage = f"hookline aircall {name} {sub}".strip()
            assert usage in DOC, f"{usage} is not documented"
            for param in cmd.params:
                for opt in getattr(param, "opts", []):
                    if opt.startswith("--") and opt not in ("--help", "--event"):
                        assert opt in DOC, f"{usage} {opt} is not documented"
    for field in AircallSettings.model_fields:
        assert f"HOOKLINE_AIRCALL_{field.upper()}" in DOC and field in DOC


def test_settings_from_the_aircall_toml_table(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("HOOKLINE_AIRCALL_API_URL", "HOOKLINE_AIRCALL_WATCHDOG_INTERVAL"):
        monkeypatch.delenv(var, raising=False)
    toml = tmp_path / "hookline.toml"
    toml.write_text('port = 9000\n[aircall]\napi_url = "http://fake:1"\nwatchdog_interval = 0\n')
    monkeypatch.setenv("HOOKLINE_CONFIG", str(toml))
    cfg = load_aircall_settings()
    assert (cfg.api_url, cfg.watchdog_interval, cfg.backfill_max_lookback) == ("http://fake:1", 0, 43200)
    monkeypatch.setenv("HOOKLINE_AIRCALL_WATCHDOG_INTERVAL", "60")
    assert load_aircall_settings().watchdog_interval == 60


def test_events_are_always_explicit() -> None:
    assert expand_events(None) == (list(CATALOG), [])
    assert expand_events([" , "])[0] == list(CATALOG)  # blank is not "none"
    events, unknown = expand_events(["call.ended,contact.*", "call.ended", "call.future"])
    contacts = [e for e, t in CATALOG.items() if t.family == "contact"]
    assert events == ["call.ended", *contacts, "call.future"] and unknown == ["call.future"]
    with pytest.raises(WebhookInputError):
        expand_events(["nothing.*"])


def test_urls() -> None:
    assert check_url(" https://h.example/aircall/webhook ") == "https://h.example/aircall/webhook"
    assert check_url("http://127.0.0.1:8080/x", allow_http=True).startswith("http://")
    for bad in ("http://h.example/x", "ftp://h.example", "h.example/x"):
        with pytest.raises(WebhookInputError):
            check_url(bad)


def test_points_here_by_url_or_registered_token() -> None:
    from hookline.providers.aircall.tokens import digest

    hook = {"webhook_id": "w1", "url": "https://h.example/aircall/webhook/", "token": "t" * 32, "active": False}
    assert view(hook, "https://h.example", set()).ours_by_url
    assert not view(hook, "https://other.example", set()).ours
    by_token = view(hook, None, {digest("t" * 32)})
    assert by_token.ours and by_token.registered and by_token.token_hint == "tttt…tttt"
    assert "t" * 32 not in str(by_token.as_json())


def test_watchdog_window() -> None:
    dog = Watchdog.__new__(Watchdog)
    dog.margin, dog.max_lookback = 600.0, 43200.0
    now = 1_800_000_000.5
    assert dog.window(now - 3600, now) == (now - 3600.5 - 600, 1_800_000_001)
    assert dog.window(None, now) == (1_800_000_001 - 43200, 1_800_000_001)  # nothing ever received
    assert dog.window(now - 86400, now)[0] == 1_800_000_001 - 43200  # bounded lookback
    assert dog.window(now + 5000, now)[0] == 1_800_000_000  # a clock ahead: never an empty window


def test_synced_events_dedup_on_content_not_signatures() -> None:
    call = {"id": 7, "started_at": 100, "recording": "https://a.example/r/7.mp3?expires=1&sig=aa"}
    resigned = {**call, "recording": "https://a.example/r/7.mp3?expires=2&sig=bb"}
    changed = {**call, "duration": 42}
    assert record_digest(call) == record_digest(resigned) != record_digest(changed)
    first, second = synced_event("acme", "calls", call, 1000.9), synced_event("acme", "calls", resigned, 2000)
    assert first.dedup_key == second.dedup_key and first.dedup_key.startswith("call.synced:7:")
    assert (first.event, first.resource, first.resource_id, first.origin) == ("call.synced", "call", "7", "backfill")
    assert first.body.startswith(b'{"resource":"call","event":"call.synced","timestamp":1000,"data":{')
    assert parse_resources("tags, calls") == ["calls", "tags"]


def test_secret_box() -> None:
    plain, sealed = SecretBox(None), SecretBox("k" * 40)
    assert plain.open(plain.seal("s3cret")) == "s3cret" and not plain.encrypts
    token = sealed.seal("s3cret")
    assert "s3cret" not in token and sealed.open(token) == "s3cret" and token != sealed.seal("s3cret")
    with pytest.raises(SecretBoxError, match="set HOOKLINE_SECRET_KEY"):
        plain.open(token)
    with pytest.raises(SecretBoxError, match="not the key"):
        SecretBox("other").open(token)
