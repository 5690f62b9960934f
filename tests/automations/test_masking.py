"""Rule listings mask credentials (`rules list/show`, /api/rules, the Automations pages); `rules export`
keeps them, so the export still applies back to the same rule."""

from __future__ import annotations

import json
from pathlib import Path

from hookline.automations.masking import masked_spec
from hookline.store.engine import Database
from tests.dashboard.helpers import signed_in
from tests.support import Server, run_cli

SECRETS = ("pw-S3CRET-url", "Bearer S3CRET-header", "S3CRET-A", "S3CRET-B", "S3CRET-C", "S3CRET-json")
RULE = """
[[rules]]
name = "hooked"
on = ["aircall:call.created"]
mode = "dry-run"

[[rules.steps]]
action = "http"
method = "POST"
url = "https://bot:pw-S3CRET-url@hooks.example.test/in"
headers = { Authorization = "Bearer S3CRET-header", X-Trace = "keep-me" }
json = { link = "https://crm.example.test/c/{{ data.id }}" }

[[rules.steps]]
action = "notify"
url = "slack://S3CRET-A/S3CRET-B/S3CRET-C"
title = "call {{ data.id }}"

[[rules.steps]]
action = "notify"
url = "json://user:S3CRET-json@127.0.0.1:9/x"
"""


def _no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


def test_masked_spec_masks_headers_userinfo_and_apprise_urls() -> None:
    spec = {"name": "r", "on": ["aircall:*"], "steps": [
        {"action": "http", "url": "https://u:p@h.test/x", "headers": {"X-Api-Key": "k", "Accept": "a"},
         "json": {"nested": ["ftp://a:b@h.test/f", "plain https text"]}},
        {"action": "notify", "url": "discord://id/token"},
        {"action": "notify", "url": "{{ data.url }}"},
    ]}
    shown = masked_spec(spec)
    assert shown["steps"][0] == {"action": "http", "url": "https://u:***@h.test/x",
                                 "headers": {"X-Api-Key": "***", "Accept": "a"},
                                 "json": {"nested": ["ftp://a:***@h.test/f", "plain https text"]}}
    assert shown["steps"][1]["url"] == "discord://***"
    assert shown["steps"][2]["url"] == "{{ data.url }}"  # a template is no credential
    assert spec["steps"][0]["headers"]["X-Api-Key"] == "k"  # the stored spec is untouched


def test_listings_mask_rule_secrets_and_export_keeps_them(
    db: Database, database_url: str, server: Server, tmp_path: Path
) -> None:
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(RULE)
    applied = run_cli("rules", "apply", str(rules_file), database_url=database_url)
    assert applied.returncode == 0, applied.stderr
    _no_secrets(applied.stdout + applied.stderr)

    shown_json = run_cli("rules", "show", "hooked", "--json", database_url=database_url).stdout
    _no_secrets(shown_json)
    steps = json.loads(shown_json)["spec"]["steps"]
    assert steps[0]["url"] == "https://bot:***@hooks.example.test/in"
    assert steps[0]["headers"] == {"Authorization": "***", "X-Trace": "keep-me"}
    assert steps[0]["json"] == {"link": "https://crm.example.test/c/{{ data.id }}"}
    assert (steps[1]["url"], steps[2]["url"]) == ("slack://***", "json://***")
    shown_text = run_cli("rules", "show", "hooked", database_url=database_url).stdout
    assert "slack://***" in shown_text
    _no_secrets(shown_text)
    listed = run_cli("rules", "list", "--json", database_url=database_url).stdout
    assert json.loads(listed)[0]["spec"]["steps"] == steps
    _no_secrets(listed + run_cli("rules", "list", database_url=database_url).stdout)

    with server.admin() as admin:
        one = admin.get("/api/rules/hooked")
        assert one.status_code == 200 and one.json()["spec"]["steps"] == steps
        _no_secrets(one.text)
        every = admin.get("/api/rules")
        assert every.json()["rules"][0]["spec"]["steps"] == steps
        _no_secrets(every.text)
    with signed_in(server) as client:
        for page in ("/automations", "/automations/hooked"):
            got = client.get(page)
            assert got.status_code == 200 and "hooked" in got.text
            _no_secrets(got.text)

    # The export is the file that round-trips into git: verbatim, and it applies back unchanged.
    exported = run_cli("rules", "export", database_url=database_url).stdout
    for secret in SECRETS:
        assert secret in exported, secret
    (tmp_path / "export.toml").write_text(exported)
    again = run_cli("rules", "apply", str(tmp_path / "export.toml"), database_url=database_url)
    assert "nothing to change" in again.stdout, again.stdout + again.stderr
    assert run_cli("rules", "show", "hooked", "--json", database_url=database_url).stdout == shown_json


def test_run_records_mask_a_lone_token_in_the_url_too() -> None:
    """What a run records of an http step: user:***@ and a lone TOKEN@ as ***@ (the one masking helper)."""
    from hookline.automations.builtin_actions import HttpAction

    action = HttpAction()
    assert action.preview({"url": "https://s3cr3t-token@h.test/x"})["url"] == "https://***@h.test/x"
    assert action.preview({"url": "https://u:pw@h.test/x"})["url"] == "https://u:***@h.test/x"
    assert action.preview({"url": "https://h.test/x"})["url"] == "https://h.test/x"
