"""Real things for tests: PostgreSQL schemas, the hookline server as a subprocess, the CLI."""

from __future__ import annotations

import atexit
import hashlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import structlog
from rich.console import Console

ENGINES = [e for e in os.environ.get("HOOKLINE_TEST_ENGINES", "sqlite,postgresql").split(",") if e]
PG_URL = os.environ.get("HOOKLINE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN_TOKEN = "test-admin-token-0123456789"
ROOT = Path(__file__).resolve().parent.parent


def on_engine(name: str) -> pytest.MarkDecorator:
    """Run a test on one engine only: for a behaviour that only that engine has."""
    return pytest.mark.parametrize("engine", [name] if name in ENGINES else [], indirect=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def new_pg_schema() -> tuple[str, str]:
    """A fresh, empty schema; returns (schema, database URL whose search_path is that schema)."""
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    return schema, f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def drop_pg_schema(schema: str) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# A schema's shape, to tell whether a test changed it: columns, constraints, indexes, triggers, functions,
# sequences and views (names relative to the schema).
_PG_SHAPE = """
SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' '
       || coalesce(column_default, '') || ' ' || is_identity
  FROM information_schema.columns WHERE table_schema = %(s)s
UNION ALL SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = %(s)s::regnamespace
UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = %(s)s
UNION ALL SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  WHERE c.relnamespace = %(s)s::regnamespace AND NOT t.tgisinternal
UNION ALL SELECT 'function ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc)
  FROM pg_proc p WHERE p.pronamespace = %(s)s::regnamespace
UNION ALL SELECT 'sequence ' || sequencename FROM pg_sequences WHERE schemaname = %(s)s
UNION ALL SELECT 'view ' || viewname || ' ' || md5(definition) FROM pg_views WHERE schemaname = %(s)s
"""


class MigratedSchemas:
    """Migrated PostgreSQL schemas for the `db` fixture, reused within a test process: migrating one
    takes seconds, emptying one a few milliseconds. The first is migrated by `migrations.upgrade` and
    kept as the reference; a schema handed back is emptied to the reference's rows and sequences
    (what the migrations seeded) if its shape is still the reference's, and dropped otherwise (a test
    that migrated more, or altered a table)."""

    def __init__(self, migrate: Callable[[str], None]) -> None:
        self.migrate = migrate
        self.free: list[str] = []
        self.reference: str | None = None
        self.shape: list[str] = []
        self.seeded: list[str] = []  # tables with rows after the migrations
        self.sequences: list[str] = []

    def _new(self) -> tuple[str, str]:
        schema, url = new_pg_schema()
        self.migrate(url)
        return schema, url

    def _shape(self, conn: psycopg.Connection[Any], schema: str) -> list[str]:
        rows = conn.execute(_PG_SHAPE, {"s": schema}).fetchall()
        return sorted(str(r[0]).replace(f'"{schema}".', "").replace(f"{schema}.", "") for r in rows)

    def take(self) -> tuple[str, str]:
        if self.reference is None:
            self.reference, _ = self._new()
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                self.shape = self._shape(conn, self.reference)
                tables = [r[0] for r in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s", (self.reference,))]  # fmt: skip
                self.seeded = [t for t in tables if conn.execute(
                    f'SELECT EXISTS (SELECT 1 FROM "{self.reference}"."{t}")').fetchone() == (True,)]  # fmt: skip
                self.sequences = [r[0] for r in conn.execute(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = %s", (self.reference,))]  # fmt: skip
        if self.free:
            schema = self.free.pop()
            sep = "&" if "?" in PG_URL else "?"
            return schema, f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
        return self._new()

    def give_back(self, schema: str) -> None:
        """Empty `schema` for the next test, or drop it."""
        assert self.reference is not None
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            if self._shape(conn, schema) != self.shape:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                return
            ref = self.reference
            tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))]
            script = [
                "BEGIN",
                "SET LOCAL session_replication_role = replica",  # no triggers, no foreign-key order
                *(f'DELETE FROM "{schema}"."{t}"' for t in tables),
                *(f'INSERT INTO "{schema}"."{t}" OVERRIDING SYSTEM VALUE SELECT * FROM "{ref}"."{t}"'
                  for t in self.seeded),
                *(f"SELECT setval('\"{schema}\".\"{q}\"', last_value, is_called) FROM \"{ref}\".\"{q}\""
                  for q in self.sequences),
                "COMMIT",
            ]  # fmt: skip
            conn.execute(";\n".join(script).encode())  # one round trip (no parameters: simple protocol)
        self.free.append(schema)

    def close(self) -> None:
        for schema in [*self.free, *([self.reference] if self.reference else [])]:
            drop_pg_schema(schema)
        self.free, self.reference = [], None


def base_env(database_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    # No test may reach a real provider: their API URLs point at a closed local port unless a test
    # names its fake.
    for provider in ("AIRCALL", "CALENDLY", "MONDAY"):
        env[f"HOOKLINE_{provider}_API_URL"] = "http://127.0.0.1:9"
    env.update(
        HOOKLINE_DATABASE_URL=database_url,
        HOOKLINE_ADMIN_TOKEN=ADMIN_TOKEN,
        HOOKLINE_LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
    )
    if extra:
        env.update(extra)
    return env


# Commands that always set up logging (structured lines on stderr) run in a process of their own: in this
# one, loggers cached on first use would keep writing to that run's captured stderr. (Aircall's backfill
# and watchdog are sent there by tests/providers/aircall/conftest.py: their refusals before logging is set
# up are tested in this process.)
LOGGING_COMMANDS = {("calendly", "subscriptions"), ("calendly", "watchdog")}


def run_cli(
    *args: str,
    database_url: str,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`hookline ARGS` run in this process through the root entry point (`hookline.cli.main`), with the
    environment, stdin, stdout, stderr and exit code a subprocess would have: 10 to 50 times faster than
    `run_cli_process`, for tests of what a command does rather than of the process around it."""
    from click.testing import CliRunner

    from hookline.cli import main

    if any(tuple(args[: len(command)]) == command for command in LOGGING_COMMANDS):
        return run_cli_process(*args, database_url=database_url, env=env, input=input)
    wanted = base_env(database_url, env)
    overlay: dict[str, str | None] = {k: None for k in os.environ if k not in wanted}
    overlay.update(wanted)
    exit_funcs: list[tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]] = []

    def at_exit(func: Callable[..., object], *a: Any, **kw: Any) -> Callable[..., object]:
        exit_funcs.append((func, a, kw))
        return func

    logging_before = structlog.get_config()
    cwd, argv, register = Path.cwd(), sys.argv, atexit.register
    code: int = 0
    with CliRunner().isolation(input=input, env=overlay) as (out, err, _), _consoles_sized_by_environment():
        sys.argv, atexit.register = ["hookline", *args], at_exit
        os.chdir(ROOT)
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
        finally:
            sys.argv, atexit.register = argv, register
            os.chdir(cwd)
            for func, a, kw in reversed(exit_funcs):  # what the interpreter would run at exit
                func(*a, **kw)
            sys.stdout.flush()
            sys.stderr.flush()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    if structlog.get_config() != logging_before:
        # Loggers cached on first use would keep writing to this run's captured stderr.
        structlog.configure(**logging_before)
        raise AssertionError(f"`hookline {' '.join(args)}` configures logging: test it with run_cli_process")
    return subprocess.CompletedProcess(["hookline", *args], code, stdout, stderr)


@contextmanager
def _consoles_sized_by_environment() -> Iterator[None]:
    """hookline's module-level rich consoles fixed their size from COLUMNS/LINES when imported (pytest-xdist
    workers have COLUMNS=80); for one in-process run they take the size a new process's would, from the
    run's environment."""
    fresh = Console()
    consoles = [
        v for name, m in list(sys.modules.items()) if name.startswith("hookline") for v in vars(m).values()
        if isinstance(v, Console)
    ]  # fmt: skip
    sizes = [(c, c._width, c._height) for c in consoles]
    for c in consoles:
        c._width, c._height = fresh._width, fresh._height
    try:
        yield
    finally:
        for c, width, height in sizes:
            c._width, c._height = width, height


def run_cli_process(
    *args: str,
    database_url: str,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`python -m hookline ARGS` in a subprocess: for what needs a process of its own (logging set up,
    signals, the interpreter's exit) and one smoke test per command family."""
    return subprocess.run(
        [sys.executable, "-m", "hookline", *args],
        env=base_env(database_url, env),
        capture_output=True,
        text=True,
        input=input,
        timeout=timeout,
        cwd=ROOT,
    )


@dataclass
class Server:
    """`hookline serve` running in a subprocess on 127.0.0.1."""

    database_url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    port: int = 0
    ca: Path | None = None  # set when serving https with a test certificate
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.ca else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> Server:
        self.port = self.port or free_port()
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hookline", "serve", "--port", str(self.port), *self.args],
            env=base_env(self.database_url, self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1, verify=self._verify()).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not start:\n{self.log()}")

    def _verify(self) -> ssl.SSLContext | bool:
        return ssl.create_default_context(cafile=str(self.ca)) if self.ca else True

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code

    def kill(self) -> None:
        """kill -9: no shutdown, no flush."""
        self.stop(signal.SIGKILL)

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, verify=self._verify(), **kwargs)

    def admin(self) -> httpx.Client:
        return self.client(headers={"authorization": f"Bearer {ADMIN_TOKEN}"})


def archived_recording(db: Any, root: Path, account: str, call_id: int, kind: str = "recording") -> bytes:
    """An archived file of Aircall's recordings archive, as the archiver leaves it: the MP3 under
    `root` and its row. Returns the file's bytes."""
    data = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 4
    rel = f"{account}/2026/11/{call_id}-{kind}.mp3"
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_bytes(data)
    now = time.time()
    with db.connection() as conn, conn.transaction():
        conn.execute(
            "INSERT INTO aircall_recordings (account, call_id, kind, state, run_at, attempts, path, size, sha256,"
            " archived_at, created_at, updated_at) VALUES (?, ?, ?, 'archived', ?, 1, ?, ?, ?, ?, ?, ?)",
            (account, call_id, kind, now, rel, len(data), hashlib.sha256(data).hexdigest(), now, now, now),
        )
    return data


def stored_events(db: Any, columns: str) -> list[tuple[Any, ...]]:
    """The event log's rows, oldest first, with the columns a test compares (e.g. "account, event")."""
    with db.connection() as conn:
        return [tuple(row) for row in conn.fetchall(f"SELECT {columns} FROM events ORDER BY id")]


def post_events(server: Server, *bodies: Any, path: str = "/aircall/webhook") -> list[Any]:
    """POST each body as JSON to a receiver of `server`; every answer must be 200. Returns the answers'
    `id`s (the stored events')."""
    with server.client() as c:
        answers = [c.post(path, json=body) for body in bodies]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    return [a.json().get("id") for a in answers]


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll `check` until it holds (a background task, another process); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def serve_oauth_app(start_server: Callable[..., Server], cli: Callable[..., Any], provider: str,
                    configure: list[str], secrets: str, env: Mapping[str, str] | None = None) -> Server:
    """A partner's OAuth app as a test sets it up: `hookline <provider> oauth configure` (the secrets on
    standard input), then `serve` at the public URL the app's install and redirect URIs name."""
    done = cli(provider, "oauth", "configure", *configure, input=secrets)
    assert done.returncode == 0, done.stderr
    port = free_port()
    return start_server(env={"HOOKLINE_PUBLIC_URL": f"http://127.0.0.1:{port}",
                             "HOOKLINE_TOKEN_CACHE_SECONDS": "0.2", **(env or {})}, port=port)


def count_events(db: Any, provider: str, account: str, event: str | None = None) -> int:
    """How many events of `account` (of one type, given `event`) the event log holds."""
    sql = "SELECT COUNT(*) FROM events WHERE provider = ? AND account = ?"
    params: tuple[str, ...] = (provider, account)
    if event is not None:
        sql += " AND event = ?"
        params += (event,)
    with db.connection() as conn:
        return int(conn.scalar(sql, params))


def installation_states(db: Any, provider: str) -> dict[str, tuple[str, str | None]]:
    """account -> (state, failure) as the Installations page shows them."""
    from hookline.oauth.dashboard import rows
    from hookline.providers.registry import providers

    with db.connection() as conn:
        return {r["account"]: (r["state"], r["failure"]) for r in rows(conn, providers()) if r["provider"] == provider}
