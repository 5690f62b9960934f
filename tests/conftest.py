"""Shared fixtures. Every behaviour runs on both engines: the `database_url` fixture is parametrized."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hookline.assembly import migration_sources
from hookline.providers.registry import providers
from hookline.store import migrations
from hookline.store.engine import Database
from tests.support import ENGINES, MigratedSchemas, Server, drop_pg_schema, new_pg_schema


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks from the fixtures a test uses (`./scripts/test --fast` deselects them): Chromium is a
    browser test, a `hookline serve` subprocess a server test."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & {"page", "browser"}:
            item.add_marker(pytest.mark.browser)
        if "start_server" in used:
            item.add_marker(pytest.mark.server)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _migrate(url: str) -> None:
    database = Database(url)
    try:
        migrations.upgrade(database, migration_sources(providers()))
    finally:
        database.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated by `migrations.upgrade`, copied for each test that wants `db`."""
    path = tmp_path_factory.mktemp("template") / "hookline.sqlite3"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_schemas() -> Iterator[MigratedSchemas]:
    schemas = MigratedSchemas(_migrate)
    yield schemas
    schemas.close()


@pytest.fixture
def database_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A database of the engine under test: empty, or migrated when the test also uses `db` (a copy
    of a migrated file on SQLite, an emptied migrated schema on PostgreSQL: migrating takes seconds)."""
    migrated = "db" in request.fixturenames
    if engine == "sqlite":
        path = tmp_path / "hookline.sqlite3"
        if migrated:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    if migrated:
        pool: MigratedSchemas = request.getfixturevalue("pg_schemas")
        schema, url = pool.take()
        try:
            yield url
        finally:
            pool.give_back(schema)
        return
    schema, url = new_pg_schema()
    try:
        yield url
    finally:
        drop_pg_schema(schema)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database (database_url gives it migrated)."""
    database = Database(database_url)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def start_server(db: Database, database_url: str, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start `hookline serve` subprocesses on the migrated test database; all are stopped afterwards."""
    started: list[Server] = []

    def start(
        env: dict[str, str] | None = None, args: tuple[str, ...] = (), port: int = 0, ca: Path | None = None
    ) -> Server:
        server = Server(database_url, tmp_path / f"server-{len(started)}.log", dict(env or {}), args, port, ca)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server: Callable[..., Server]) -> Server:
    return start_server()
