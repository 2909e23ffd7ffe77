"""Session-wide real servers and per-test databases, shared by every test package."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import PostgresServer, RedisServer, postgres_server, redis_server

_database_names = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    # A test run is a development run: settings built without SERVICE_TOKEN may use the
    # development token (service_http.settings). Processes the tests start inherit it.
    os.environ["APP_ENV"] = "development"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL 15 cluster on 127.0.0.1 for the whole session, stopped after."""
    with postgres_server() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """A fresh, empty PostgreSQL database (asyncpg URL) for one test."""
    return pg_server.create_database(f"test_{next(_database_names)}")


@pytest.fixture
def make_pg_url(pg_server: PostgresServer):  # type: ignore[no-untyped-def]
    """Factory for several fresh databases in one test (e.g. ordering's and billing's)."""
    return lambda: pg_server.create_database(f"test_{next(_database_names)}")


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisServer]:
    """One real redis-server on 127.0.0.1 for the whole session, stopped after."""
    with redis_server() as server:
        yield server


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A real SQLite file in the test's own temporary directory."""
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
