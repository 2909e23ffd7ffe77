"""Billing's own database: the shared engine plumbing (service_db), sessions, schema.

SQLite (the embedded default) and PostgreSQL behave the same for billing's rules:
- SQLite: write transactions start with `BEGIN IMMEDIATE` (see service_db.engine), which also
  serializes all pulls on one SQLite file, whatever the process; readers use a plain BEGIN.
- PostgreSQL: READ COMMITTED, row locks (`SELECT ... FOR UPDATE`), `INSERT ... ON CONFLICT`
  and an advisory lock for the pull (see `sync.py`).
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from billing_api.models import SYNC_STATE_ID, SyncState
from service_db import engine as service_engine
from service_db.engine import Sessions, create_engine, create_sessions, is_postgres, read_only
from service_db.schema import upgrade_schema

__all__ = [
    "Sessions",
    "create_engine",
    "create_schema",
    "create_sessions",
    "is_postgres",
    "new_session",
    "read_only",
]

# Billing's Alembic script directory; its env.py targets BillingTable.metadata.
MIGRATIONS = "billing_api:migrations"
# The revision databases made by create_all before migrations existed are at.
BASELINE_REVISION = "0001"
# Serializes schema changes between replicas starting at once on one PostgreSQL database.
SCHEMA_LOCK_KEY = 0x62696C6C  # "bill"


def new_session(engine: AsyncEngine, *, read_only: bool = False) -> AsyncSession:
    """One session straight from an engine, for tests and tools that hold no `Sessions`;
    read-only ones do not take SQLite's write lock (they must not write)."""
    return create_sessions(service_engine.read_only(engine) if read_only else engine)()


async def _ensure_sync_state(connection: AsyncConnection) -> None:
    found = await connection.execute(
        select(col(SyncState.id)).where(col(SyncState.id) == SYNC_STATE_ID)
    )
    if found.first() is None:
        await connection.execute(
            insert(SyncState).values(**SyncState(id=SYNC_STATE_ID).model_dump())
        )


async def create_schema(engine: AsyncEngine) -> None:
    """Bring billing's database to the newest migration and make sure its sync state row is
    there (idempotent; runs at every start). The row is seeded here, not in a migration, so a
    start also restores it should it ever go missing."""
    await upgrade_schema(
        engine, MIGRATIONS, SCHEMA_LOCK_KEY, baseline=BASELINE_REVISION, then=_ensure_sync_state
    )
