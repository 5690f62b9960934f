"""Every command group speaks like one program: exit 2 for usage and bad input, 1 for a failure at
run time (the database, the network, a provider), a message and never a traceback (README: Exit codes)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import free_port, run_cli, run_cli_process

UNREACHABLE_DB = "postgresql://nobody:hunter2@127.0.0.1:1/none"
CLOSED = f"http://127.0.0.1:{free_port()}"  # an API nobody listens at
# Groups that serve, loop or start processes of their own (and set up logging) run as a subprocess;
# the others in-process through the same entry point (hookline.cli.main) and its exit codes.
PROCESS_GROUPS = {"serve", "worker", "demo", "simulate"}


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


# (group, arguments, code, part of the message); "{db}" runs on a fresh SQLite file, "{unreachable}"
# against a PostgreSQL nobody listens at, "{taken}" is a port in use.
CASES = [
    ("serve", ("serve", "--port", "abc"), 2, "--port"),
    ("serve", ("serve", "--certfile", "x.pem"), 2, "--keyfile"),
    ("serve", ("serve", "--port", "{taken}"), 1, "cannot listen"),
    ("db", ("db", "migrate"), 2, "No such command"),
    ("db", ("db", "upgrade", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("admin-token", ("admin-token", "--again"), 2, "No such option"),
    ("admin-token", ("admin-token", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("version", ("version", "--long"), 2, "No such option"),
    ("worker", ("worker", "--nope"), 2, "No such option"),
    ("worker", ("worker", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("jobs", ("jobs", "list", "--state", "sleeping"), 2, "--state must be one of"),
    ("jobs", ("jobs", "list", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("rebuild", ("rebuild", "--nope"), 2, "No such option"),
    ("rebuild", ("rebuild", "--yes", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("destinations", ("destinations", "add", "crm", "--url", "ftp://x.example"), 2, "invalid URL"),
    ("destinations", ("destinations", "list", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("deliveries", ("deliveries", "retry"), 2, "one of the two"),
    ("dispatcher", ("dispatcher", "--nope"), 2, "No such option"),
    ("dispatcher", ("dispatcher", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("deliveries", ("deliveries", "list", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("events", ("events", "replay", "--since", "yesterday-ish"), 2, "not a time"),
    ("events", ("events", "replay", "--since", "0", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("dashboard", ("dashboard", "sessions", "list", "--all"), 2, "No such option"),
    ("dashboard", ("dashboard", "sessions", "list", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("aircall", ("aircall", "ping", "--account", "nobody", "{db}"), 2, "no Aircall account"),
    ("aircall", ("aircall", "token", "list", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("calendly", ("calendly", "subscriptions", "create", "--url", "https://x.example/c", "--scope", "team"), 2,
     "--scope is user or organization"),
    ("calendly", ("calendly", "account", "add", "acme", "--token", "tok-0123456789", "{db}"), 1,
     f"cannot reach Calendly at {CLOSED}"),
    ("monday", ("monday", "account", "add", "a b", "--token", "tok-0123456789", "{db}"), 2, "no spaces"),
    ("monday", ("monday", "account", "add", "acme", "--token", "tok-0123456789", "{db}"), 1,
     f"cannot reach monday.com at {CLOSED}"),
    ("secrets", ("secrets", "rotate", "--all"), 2, "No such option"),
    ("secrets", ("secrets", "rotate", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("demo", ("demo", "--seconds", "abc"), 2, "--seconds"),
    ("demo", ("demo", "--port", "{taken}", "--seconds", "5", "--data-dir", "{tmp}"), 1, "serve exited with 1"),
    ("rules", ("rules", "apply", "/nonexistent/rules.toml", "{db}"), 2, "cannot read"),
    ("rules", ("rules", "list", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("runs", ("runs", "list", "--state", "sleeping", "{db}"), 2, "unknown state"),
    ("runs", ("runs", "list", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("alerts", ("alerts", "list", "--nope"), 2, "No such option"),
    ("alerts", ("alerts", "list", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("export", ("export", "events", "--format", "xml", "--output", "{tmp}"), 2, "--format"),
    ("export", ("export", "events", "--output", "{tmp}", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("import", ("import", "events", "/nonexistent/export", "{db}"), 2, "no manifest.json"),
    ("retention", ("retention", "show", "--nope"), 2, "No such option"),
    ("retention", ("retention", "show", "{unreachable}"), 1, "cannot connect to PostgreSQL"),
    ("simulate", ("simulate", "aircall", "--port", "abc"), 2, "--port"),
    ("simulate", ("simulate", "aircall", "--port", "{taken}"), 1, "cannot listen"),
    ("simulate", ("simulate", "aircall", "--webhook-token", "given-token"), 2, "--webhook-token needs --webhook"),
    ("simulate", ("simulate", "aircall", "--port", "0", "--webhook", "ftp://x/y"), 2, "url must be a valid http"),
    ("simulate", ("simulate", "aircall", "--start", "4102444800"), 2, "--start is in the future"),
]


# `demo` starting for real runs `hookline serve` as a subprocess of its own: several processes (slow).
MARKED = [pytest.param(*c, marks=pytest.mark.slow) if c[0] == "demo" and c[2] == 1 else c for c in CASES]


@pytest.mark.parametrize(("group", "args", "code", "message"), MARKED, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_bad_input_exits_2_and_failures_at_run_time_exit_1(
    group: str, args: tuple[str, ...], code: int, message: str, tmp_path: Path, taken_port: int
) -> None:
    check_exit(group, args, code, message, tmp_path, taken_port, in_process=group not in PROCESS_GROUPS)


# Each group's cases at run time (exit 1) once more in a process of its own: `python -m hookline` exits as
# the entry point does in-process (one smoke test per command family; CI and the full run).
PROCESS_CASES = [c for c in CASES if c[2] == 1 and c[0] not in PROCESS_GROUPS]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("group", "args", "code", "message"), PROCESS_CASES, ids=[f"{c[0]}-{c[2]}" for c in PROCESS_CASES]
)
def test_a_process_exits_as_the_entry_point_does(
    group: str, args: tuple[str, ...], code: int, message: str, tmp_path: Path, taken_port: int
) -> None:
    check_exit(group, args, code, message, tmp_path, taken_port, in_process=False)


def check_exit(
    group: str, args: tuple[str, ...], code: int, message: str, tmp_path: Path, taken_port: int, in_process: bool
) -> None:
    database_url = UNREACHABLE_DB if "{unreachable}" in args else f"sqlite:///{tmp_path / 'h.sqlite3'}"
    argv = [
        a.replace("{taken}", str(taken_port)).replace("{tmp}", str(tmp_path / "demo"))
        for a in args
        if a not in ("{db}", "{unreachable}")
    ]
    env = {f"HOOKLINE_{p}_API_URL": CLOSED for p in ("AIRCALL", "CALENDLY", "MONDAY")}
    if group == "admin-token":
        env["HOOKLINE_ADMIN_TOKEN"] = ""  # unset: the command makes one (in the database)
    if in_process:
        result = run_cli(*argv, database_url=database_url, env=env)
    else:
        result = run_cli_process(*argv, database_url=database_url, env=env, timeout=30)
    assert result.returncode == code, (group, result.stdout, result.stderr)
    assert message in result.stdout + result.stderr, (group, result.stderr)
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr


def test_settings_errors_are_one_plain_line_per_setting(tmp_path: Path) -> None:
    env = {"HOOKLINE_PORT": "abc", "HOOKLINE_LOG_FORMAT": "xml", "HOOKLINE_WORKER": "maybe"}
    result = run_cli_process("serve", database_url=f"sqlite:///{tmp_path / 'h.sqlite3'}", env=env, timeout=30)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "hookline: setting HOOKLINE_PORT: must be an integer (got 'abc')",
        "hookline: setting HOOKLINE_LOG_FORMAT: must be one of 'console' or 'json' (got 'xml')",
        "hookline: setting HOOKLINE_WORKER: must be true or false (got 'maybe')",
    ]
    # A provider's settings, read inside `serve`, read the same; a secret is never echoed.
    provider = {"HOOKLINE_AIRCALL_WATCHDOG_INTERVAL": "-1", "HOOKLINE_SECRET_KEY": ""}
    late = run_cli_process("serve", "--port", str(free_port()), env=provider, timeout=30,
                           database_url=f"sqlite:///{tmp_path / 'h.sqlite3'}")  # fmt: skip
    assert late.returncode == 2, late.stderr
    assert "hookline: setting HOOKLINE_AIRCALL_WATCHDOG_INTERVAL: must be at least 0 (got '-1')" in late.stderr
    assert "pydantic" not in late.stderr + result.stderr and "Traceback" not in late.stderr


def test_help_shows_names_not_types() -> None:
    pages = [("serve",), ("aircall", "token", "add"), ("aircall", "recordings", "retry"), ("monday", "account", "add")]
    for args in pages:
        shown = run_cli(*args, "--help", database_url="sqlite:///unused.sqlite3", env={"COLUMNS": "160"}).stdout
        assert "<bool>" not in shown and "<str>" not in shown and "<int>" not in shown and "{" not in shown, shown
    serve = run_cli("serve", "--help", database_url="sqlite:///unused.sqlite3", env={"COLUMNS": "160"}).stdout
    assert "--port             PORT" in serve and "--no-worker    " in serve
    token = run_cli("aircall", "token", "add", "--help", database_url="sqlite:///unused.sqlite3").stdout
    assert "aircall token add [OPTIONS] TOKEN" in token
