"""`hookline destinations ...` and `hookline deliveries ...` as users run them: clear output, clear errors."""

from __future__ import annotations

import json

import pytest
from standardwebhooks import Webhook

from hookline.forwarding.destinations import DestinationStore
from hookline.store.engine import Database
from tests.support import run_cli

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_add_list_pause_resume_remove(db: Database, database_url: str) -> None:
    added = run_cli(
        "destinations", "add", "crm", "--url", "https://crm.example.com/hooks",
        "--events", "call.*,aircall:contact.*", "--events", "user.created", "--account", "acme", "--ordered",
        database_url=database_url,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    lines = [line for line in added.stdout.splitlines() if line.startswith("signing secret")]
    assert len(lines) == 1
    secret = lines[0].rsplit(" ", 1)[1]
    Webhook(secret)  # a valid Standard Webhooks secret
    assert DestinationStore(db).get("crm").secret == secret

    given = run_cli("destinations", "add", "erp", "--url", "http://erp.local/in", "--secret", SECRET,
                    database_url=database_url)  # fmt: skip
    assert given.returncode == 0 and "signing secret" not in given.stdout and SECRET not in given.stdout

    listed = run_cli("destinations", "list", "--json", database_url=database_url)
    assert listed.returncode == 0
    assert secret not in listed.stdout and SECRET not in listed.stdout
    rows = {d["name"]: d for d in json.loads(listed.stdout)}
    crm = rows["crm"]
    assert crm["events"] == ["call.*", "aircall:contact.*", "user.created"] and crm["account"] == "acme"
    assert crm["ordered"] is True and crm["state"] == "active" and crm["secret"] == "whsec_…" + secret[-4:]
    assert rows["erp"]["events"] == ["*"] and rows["erp"]["ordered"] is False
    table = run_cli("destinations", "list", database_url=database_url)
    assert "crm" in table.stdout and secret not in table.stdout and SECRET not in table.stdout

    assert run_cli("destinations", "pause", "crm", database_url=database_url).returncode == 0
    assert DestinationStore(db).get("crm").paused
    assert run_cli("destinations", "resume", "crm", database_url=database_url).returncode == 0
    assert not DestinationStore(db).get("crm").paused
    removed = run_cli("destinations", "remove", "erp", database_url=database_url)
    assert removed.returncode == 0 and "removed" in removed.stdout
    assert [d.name for d in DestinationStore(db).list()] == ["crm"]


def test_errors_that_need_the_database(db: Database, database_url: str) -> None:
    DestinationStore(db).add("crm", "http://127.0.0.1:9/hook")
    cases = [
        (("destinations", "add", "crm", "--url", "http://x.example"), "exists already"),
        (("destinations", "pause", "nope"), "no destination named 'nope'"),
        (("destinations", "resume", "nope"), "no destination named 'nope'"),
        (("destinations", "remove", "nope"), "no destination named 'nope'"),
        (("deliveries", "retry", "999999"), "no delivery 999999"),
        (("deliveries", "list", "--destination", "nope"), "no destination named 'nope'"),
        (("events", "replay", "--since", "0", "--to", "nope"), "no destination named 'nope'"),
    ]
    for args, message in cases:
        r = run_cli(*args, database_url=database_url)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
    assert [d.name for d in DestinationStore(db).list()] == ["crm"]


INPUT_ERRORS = [
    (("destinations", "add", "new", "--url", "ftp://x.example"), "invalid URL"),
    (("destinations", "add", "new", "--url", "not a url"), "invalid URL"),
    (("destinations", "add", "bad name!", "--url", "http://x.example"), "invalid destination name"),
    (("destinations", "add", "new", "--url", "http://x.example", "--secret", "hunter2-plain"), "whsec_"),
    (("destinations", "add", "new", "--url", "http://x", "--secret", "whsec_!!!notbase64"), "not valid base64"),
    (("destinations", "add", "new", "--url", "http://x", "--secret", "whsec_c2hvcnQ="), "24 to 64 bytes"),
    (("destinations", "add", "new", "--url", "http://x", "--events", "call.*,a b"), "invalid event pattern"),
    (("destinations", "add", "new", "--url", "http://x.example", "--account", " "), "account filter is empty"),
    (("destinations", "add", "new", "--url", "http://169.254.169.254/latest/meta-data/"), "refused URL"),
    (("destinations", "add", "new", "--url", "http://user:hunter2@[fe80::1]/x"), "user:***@[fe80::1]"),
    (("destinations", "add", "new", "--url", "http://[fd00:ec2::254]/"), "fd00:ec2::254/128"),
    (("destinations", "add", "new", "--url", "http://h.example:99999/"), "invalid URL"),
    (("deliveries", "retry"), "one of the two"),
    (("deliveries", "retry", "1", "--all-failed"), "one of the two"),
    (("deliveries", "retry", "1", "--destination", "crm"), "goes with --all-failed"),
    (("deliveries", "list", "--state", "weird"), "--state must be one of"),
    (("deliveries", "list", "--failed", "--state", "dead"), "go separately"),
    (("events", "replay", "--since", "yesterday"), "--since: not a time"),
    (("events", "replay", "--since", "nan"), "--since: time out of range"),
    (("events", "replay", "--since", "0", "--until", "inf"), "--until: time out of range"),
    (("events", "replay", "--since", "100", "--until", "50"), "--until must be after --since"),
    (("events", "replay", "--since", "0", "--event", "a:"), "empty event pattern"),
]


@pytest.mark.parametrize(("args", "message"), INPUT_ERRORS)
def test_bad_input_fails_before_any_database(
    args: tuple[str, ...], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process (fast): an unreachable database proves these are refused before it is opened."""
    from typer.testing import CliRunner

    from hookline.cli import app

    monkeypatch.setenv("HOOKLINE_DATABASE_URL", "postgresql://nobody:pw@127.0.0.1:1/none")
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 2 and message in result.stderr, (result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "hunter2" not in result.stderr and "cannot connect" not in result.stderr


def test_deliveries_list_and_retry(db: Database, database_url: str) -> None:
    dest, _ = DestinationStore(db).add("crm", "http://127.0.0.1:9/hook")
    with db.connection() as conn:
        for i, state in enumerate(("dead", "retrying", "succeeded")):
            conn.execute(
                "INSERT INTO events (provider, account, event, received_at, dedup_key, last_seen_at, known, body)"
                " VALUES ('aircall', 'acme', 'call.ended', 1, ?, 1, TRUE, ?)",
                (f"k{i}", b"{}"),
            )
            conn.execute(
                "INSERT INTO deliveries (destination_id, event_id, webhook_id, state, occurred_at, attempts,"
                " created_at, started_at, next_attempt_at, last_status, last_error)"
                " VALUES (?, (SELECT max(id) FROM events), ?, ?, 1, 3, 1, 1, 1, 500, 'HTTP 500')",
                (dest.id, f"msg_{i}", state),
            )
    failed = json.loads(run_cli("deliveries", "list", "--failed", "--json", database_url=database_url).stdout)
    assert sorted(d["state"] for d in failed) == ["dead", "retrying"]
    every = json.loads(
        run_cli("deliveries", "list", "--destination", "crm", "--json", database_url=database_url).stdout
    )
    assert len(every) == 3 and every[0]["id"] > every[-1]["id"]
    table = run_cli("deliveries", "list", database_url=database_url, env={"COLUMNS": "200"})
    assert table.returncode == 0 and "HTTP 500" in table.stdout

    dead_id = next(d["id"] for d in failed if d["state"] == "dead")
    one = run_cli("deliveries", "retry", str(dead_id), database_url=database_url)
    assert one.returncode == 0 and f"delivery {dead_id}" in one.stdout
    rest = run_cli("deliveries", "retry", "--all-failed", database_url=database_url)
    assert rest.returncode == 0 and "1 failed deliveries" in rest.stdout
    with db.connection() as conn:
        rows = conn.fetchall("SELECT state, attempts FROM deliveries ORDER BY id")
    assert rows == [("pending", 0), ("pending", 0), ("succeeded", 3)]

    succeeded_id = max(d["id"] for d in every)
    cases = [
        (("retry", str(succeeded_id)), "succeeded already"),
        (("retry", "--all-failed", "--destination", "nope"), "no destination named 'nope'"),
        (("retry", "abc"), "Invalid value"),
    ]
    for args, message in cases:
        r = run_cli("deliveries", *args, database_url=database_url)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
