"""Each service's schema comes from its Alembic migrations, at every start.

- After `create_schema`, the database matches the service's models exactly (Alembic's own
  comparison, as autogenerate sees it): a model change without a migration fails here.
- A second start is a no-op; a database made by `create_all` before migrations existed is
  adopted (stamped), its rows kept; the initial revision downgrades cleanly.
- Replicas starting at the same moment on one PostgreSQL database all come up. Without the
  advisory lock around the DDL, concurrent starts failed with a unique violation in
  PostgreSQL's catalog (every round of 4-at-once starts, when this was found).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, func, inspect, select, text
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from billing_api import db as billing_db
from billing_api.models import BillingTable, SyncState
from ordering_api import db as ordering_db
from ordering_api.db import create_sessions
from ordering_api.feed import ensure_feed_counter
from ordering_api.models import OrderingTable
from service_db.engine import create_engine
from service_db.schema import VERSION_TABLE, current_revision, migration_config

REPLICAS = 4


@dataclass(frozen=True)
class Service:
    create_schema: Callable[[AsyncEngine], Awaitable[None]]
    metadata: MetaData
    migrations: str
    # The revision a database made by create_all before migrations existed is at.
    baseline: str
    # A table create_all made before migrations, and a row to prove adoption keeps data.
    probe_table: str
    probe_row: dict[str, Any]


ORDERING = Service(
    ordering_db.create_schema,
    OrderingTable.metadata,
    ordering_db.MIGRATIONS,
    ordering_db.BASELINE_REVISION,
    "feed_counter",
    {"id": 1, "feed_id": "feed-before-migrations", "last_position": 7},
)
BILLING = Service(
    billing_db.create_schema,
    BillingTable.metadata,
    billing_db.MIGRATIONS,
    billing_db.BASELINE_REVISION,
    "sync_state",
    # The columns the table had before migrations (later revisions added the others).
    SyncState(id=1, token=42).model_dump(
        exclude={
            "dead_lettered",
            "failing_since",
            "halted_reason",
            "halted_at",
            "repair_from",
            "last_repair",
        }
    ),
)
SERVICES = [pytest.param(ORDERING, id="ordering"), pytest.param(BILLING, id="billing")]
BACKENDS = [
    pytest.param("sqlite_url", id="sqlite"),
    pytest.param("pg_url", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest) -> Any:
    """An engine on a fresh, empty database of each kind."""
    engine = create_engine(request.getfixturevalue(request.param))
    yield engine
    await engine.dispose()


def head(service: Service) -> str | None:
    return ScriptDirectory.from_config(migration_config(service.migrations)).get_current_head()


def _differences(connection: Connection, metadata: MetaData) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


async def differences(engine: AsyncEngine, service: Service) -> list[Any]:
    async with engine.connect() as connection:
        return await connection.run_sync(_differences, service.metadata)


async def revision_rows(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return [row[0] for row in rows]


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_make_exactly_what_the_models_describe(
    engine: AsyncEngine, service: Service
) -> None:
    await service.create_schema(engine)

    assert await differences(engine, service) == []
    assert await revision_rows(engine) == [head(service)]


def test_each_service_has_one_head_starting_at_its_baseline() -> None:
    for service, baseline in [
        (ORDERING, ordering_db.BASELINE_REVISION),
        (BILLING, billing_db.BASELINE_REVISION),
    ]:
        script = ScriptDirectory.from_config(migration_config(service.migrations))
        assert len(script.get_heads()) == 1
        assert script.get_base() == baseline


def _probe_insert(service: Service) -> Any:
    """The probe row's INSERT naming only its own columns: today's table would add the
    Python-side defaults of columns that later revisions created."""
    columns: list[Any] = [sql_column(name) for name in service.probe_row]
    return sql_table(service.probe_table, *columns).insert().values(**service.probe_row)


async def probe_rows(engine: AsyncEngine, service: Service) -> list[Any]:
    async with engine.connect() as connection:
        result = await connection.execute(select(service.metadata.tables[service.probe_table]))
        return list(result.mappings().all())


@pytest.mark.parametrize("service", SERVICES)
async def test_a_second_start_changes_nothing(engine: AsyncEngine, service: Service) -> None:
    await service.create_schema(engine)
    async with engine.begin() as connection:
        await connection.execute(service.metadata.tables[service.probe_table].delete())
        await connection.execute(
            service.metadata.tables[service.probe_table].insert().values(**service.probe_row)
        )

    await service.create_schema(engine)

    assert await revision_rows(engine) == [head(service)]
    assert await differences(engine, service) == []
    rows = await probe_rows(engine, service)
    assert [row["id"] for row in rows] == [service.probe_row["id"]]


def _made_before_migrations(connection: Connection, service: Service) -> None:
    command.upgrade(migration_config(service.migrations, connection), service.baseline)
    connection.execute(text(f"DROP TABLE {VERSION_TABLE}"))


@pytest.mark.parametrize("service", SERVICES)
async def test_a_database_made_before_migrations_is_adopted_with_its_rows(
    engine: AsyncEngine, service: Service
) -> None:
    # What create_schema did before migrations: create_all of the models as they were then
    # (which the baseline revision reproduces exactly), with no version table, then rows.
    # Today's models would be wrong here once a later revision changes the schema.
    async with engine.begin() as connection:
        await connection.run_sync(_made_before_migrations, service)
        await connection.execute(_probe_insert(service))

    await service.create_schema(engine)

    assert await revision_rows(engine) == [head(service)]
    assert await differences(engine, service) == []
    (row,) = await probe_rows(engine, service)
    assert {key: row[key] for key in service.probe_row} == service.probe_row


async def test_billing_start_seeds_its_one_sync_state_row(engine: AsyncEngine) -> None:
    await billing_db.create_schema(engine)
    await billing_db.create_schema(engine)

    async with engine.connect() as connection:
        count = await connection.scalar(select(func.count()).select_from(SyncState))
    assert count == 1


def _downgrade_to_base(connection: Connection, migrations: str) -> list[str]:
    command.downgrade(migration_config(migrations, connection), "base")
    assert current_revision(connection) is None
    return [name for name in inspect(connection).get_table_names() if name != VERSION_TABLE]


@pytest.mark.parametrize("service", SERVICES)
async def test_downgrade_to_base_leaves_nothing_and_upgrades_again(
    engine: AsyncEngine, service: Service
) -> None:
    await service.create_schema(engine)

    async with engine.begin() as connection:
        left = await connection.run_sync(_downgrade_to_base, service.migrations)
    assert left == []

    # On PostgreSQL this fails if the downgrade left a type (ordering's enum) behind.
    await service.create_schema(engine)
    assert await differences(engine, service) == []


async def _start(url: str, service: Service) -> str | None:
    engine = create_engine(url)
    try:
        await service.create_schema(engine)
        if service is ORDERING:
            return await ensure_feed_counter(create_sessions(engine))
        return None
    finally:
        await engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("service", SERVICES)
async def test_concurrent_starts_all_succeed(pg_url: str, service: Service) -> None:
    results = await asyncio.gather(*(_start(pg_url, service) for _ in range(REPLICAS)))
    # Ordering: every replica agrees on the one feed id the first one made.
    assert len(set(results)) == 1

    engine = create_engine(pg_url)
    try:
        assert await revision_rows(engine) == [head(service)]
    finally:
        await engine.dispose()
