"""A service's schema: its Alembic migrations, run at startup, safely when replicas start at once.

Each service owns an Alembic script directory (`<service>/migrations`, given as a package
resource such as "ordering_api:migrations") and its own `alembic_version` table in its own
database. Alembic is configured here in code, no alembic.ini: `upgrade_schema` hands Alembic
the connection to migrate (the cookbook's connection sharing recipe, via `connection.run_sync`
for the async engine) and each env.py calls `run_migrations` with its service's metadata.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service_db.engine import is_postgres
from service_db.types import StrEnumText

CONNECTION_ATTRIBUTE = "connection"
# Alembic's default name, said once: each service has its own database, so no prefix is needed.
VERSION_TABLE = "alembic_version"


def migration_config(script_location: str, connection: Connection | None = None) -> Config:
    """Alembic's configuration for one service's script directory, optionally bound to the
    connection its env.py is to migrate."""
    config = Config()
    config.set_main_option("script_location", script_location)
    if connection is not None:
        config.attributes[CONNECTION_ATTRIBUTE] = connection
    return config


async def upgrade_schema(
    engine: AsyncEngine,
    script_location: str,
    lock_key: int,
    baseline: str | None = None,
    then: Callable[[AsyncConnection], Awaitable[Any]] | None = None,
) -> None:
    """Bring the database to the newest revision (and run `then`, e.g. seeding a state row),
    all in one transaction.

    `baseline` is the revision a database made before migrations existed (by
    `metadata.create_all`) is at: such a database has the tables but no version, so it is
    stamped at the baseline instead of having its tables created again.

    On PostgreSQL, two replicas migrating at once would both try the same DDL; a
    transaction-scoped advisory lock makes the second wait and then find the database at head
    (DDL is transactional there, so a failed migration leaves nothing half done). SQLite
    serializes the transaction with BEGIN IMMEDIATE already; there foreign keys are checked
    once at the end instead of per statement, so batch mode can rebuild referenced tables.
    """
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as connection:
        if sqlite:
            await connection.run_sync(_sqlite_foreign_keys, False)
        try:
            async with connection.begin():
                if is_postgres(engine):
                    await connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key}
                    )
                await connection.run_sync(_upgrade, script_location, baseline)
                if then is not None:
                    await then(connection)
                if sqlite:
                    await connection.run_sync(_check_sqlite_foreign_keys)
        finally:
            if sqlite:
                await connection.run_sync(_sqlite_foreign_keys, True)


def _upgrade(connection: Connection, script_location: str, baseline: str | None) -> None:
    config = migration_config(script_location, connection)
    if baseline is not None and _made_before_migrations(connection):
        command.stamp(config, baseline)
    command.upgrade(config, "head")


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    # Batch mode rebuilds a table as copy, drop, rename; with foreign keys enforced, dropping a
    # table other rows refer to fails (Alembic's docs: turn enforcement off around it). The
    # pragma is a no-op inside a transaction, so it is set on the raw connection before BEGIN.
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    # What enforcement would have caught while it was off; raising rolls the migration back.
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"migration left rows with dangling foreign keys: {broken[:10]}")


def _made_before_migrations(connection: Connection) -> bool:
    if current_revision(connection) is not None:
        return False
    return any(name != VERSION_TABLE for name in inspect(connection).get_table_names())


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None: no migration has run)."""
    return MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE}
    ).get_current_revision()


def run_migrations(metadata: MetaData) -> None:
    """The body of a service's env.py: migrate the connection `upgrade_schema` (or the
    revision command) handed over, with `metadata` as autogenerate's target."""
    connection = context.config.attributes.get(CONNECTION_ATTRIBUTE)
    if connection is None:
        raise RuntimeError(
            "this script directory runs on a connection handed to it: use "
            "service_db.schema.upgrade_schema, or `python -m service_db.revision` for new revisions"
        )
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER most things in place; batch mode renders autogenerated changes as
        # "copy into a new table" there and as plain ALTERs on PostgreSQL.
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """How autogenerate writes our own column types: a StrEnumText is a plain VARCHAR in the
    database, so a revision declares it as one (the enum lives in the model, not the schema)."""
    if kind == "type" and isinstance(obj, StrEnumText):
        return f"sqlmodel.sql.sqltypes.AutoString(length={obj.length})"
    return False
