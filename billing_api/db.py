"""Billing's own database: engine, sessions, schema.

SQLite (the embedded default) and PostgreSQL behave the same for billing's rules:
- SQLite: every transaction starts with `BEGIN IMMEDIATE`, so writers take the database's
  write lock up front and queue on the busy timeout instead of failing with a lock-upgrade
  deadlock. This also serializes all pulls on one SQLite file, whatever the process.
- PostgreSQL: READ COMMITTED, row locks (`SELECT ... FOR UPDATE`), `INSERT ... ON CONFLICT`
  and an advisory lock for the pull (see `sync.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from billing_api.models import BILLING_TABLES, SYNC_STATE_ID, BillingTable, SyncState

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Serializes schema creation between replicas starting at once on one PostgreSQL database.
SCHEMA_LOCK_KEY = 0x62696C6C  # "bill"
READ_ONLY_OPTION = "billing_read_only"


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


def create_engine(database_url: str) -> AsyncEngine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)
    _use_begin_immediate(engine)
    return engine


def _use_begin_immediate(engine: AsyncEngine) -> None:
    # The SQLAlchemy recipe for SQLite: take over transaction control from the driver, then
    # begin every transaction as IMMEDIATE.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Readers need no write lock: in WAL mode they see the last commit while a pull writes.
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def new_session(engine: AsyncEngine, *, read_only: bool = False) -> AsyncSession:
    """A session; `read_only` ones do not take SQLite's write lock (they must not write)."""
    if read_only:
        return AsyncSession(
            engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False
        )
    return AsyncSession(engine, expire_on_commit=False)


async def create_schema(engine: AsyncEngine) -> None:
    """Create billing's tables and its sync state row if they are missing (idempotent)."""
    async with engine.begin() as connection:
        if is_postgres(engine):
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY}
            )
        await connection.run_sync(BillingTable.metadata.create_all, tables=BILLING_TABLES)
        found = await connection.execute(
            select(col(SyncState.id)).where(col(SyncState.id) == SYNC_STATE_ID)
        )
        if found.first() is None:
            await connection.execute(
                insert(SyncState).values(**SyncState(id=SYNC_STATE_ID).model_dump())
            )
