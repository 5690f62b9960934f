"""Shared fixtures. Every behaviour runs on both engines: the `database_url` fixture is parametrized."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hookline.assembly import migration_sources
from hookline.providers.registry import providers
from hookline.store import migrations
from hookline.store.engine import Database
from tests.support import ENGINES, Server, drop_pg_schema, new_pg_schema


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


@pytest.fixture
def database_url(engine: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the engine under test."""
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'hookline.sqlite3'}"
        return
    schema, url = new_pg_schema()
    try:
        yield url
    finally:
        drop_pg_schema(schema)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database."""
    database = Database(database_url)
    migrations.upgrade(database, migration_sources(providers()))
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
