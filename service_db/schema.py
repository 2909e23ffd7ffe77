"""Creating a service's tables, safely when several replicas start at the same moment."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import MetaData, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service_db.engine import is_postgres


async def create_tables(
    engine: AsyncEngine,
    metadata: MetaData,
    lock_key: int,
    tables: Sequence[Table] | None = None,
    then: Callable[[AsyncConnection], Awaitable[Any]] | None = None,
) -> None:
    """Create the missing tables (and run `then`, e.g. seeding a state row) in one transaction.

    On PostgreSQL, CREATE TABLE from two replicas at once fails with a unique violation in the
    catalog; a transaction-scoped advisory lock makes the second replica wait and then find the
    tables there. SQLite serializes the transaction with BEGIN IMMEDIATE already.
    """
    async with engine.begin() as connection:
        if is_postgres(engine):
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
        await connection.run_sync(metadata.create_all, tables=tables)
        if then is not None:
            await then(connection)
