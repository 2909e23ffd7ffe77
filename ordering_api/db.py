"""Ordering's database: the shared engine plumbing (service_db) plus its own schema."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from service_db.engine import Sessions, create_engine, create_sessions, read_only
from service_db.schema import upgrade_schema

__all__ = ["Sessions", "create_engine", "create_schema", "create_sessions", "read_only"]

# Ordering's Alembic script directory; its env.py targets OrderingTable.metadata.
MIGRATIONS = "ordering_api:migrations"
# The revision databases made by create_all before migrations existed are at.
BASELINE_REVISION = "0001"
# Serializes schema changes between replicas starting at once on one PostgreSQL database.
SCHEMA_LOCK_KEY = 0x6F726472  # "ordr"


async def create_schema(engine: AsyncEngine) -> None:
    """Bring ordering's database to the newest migration (idempotent; runs at every start)."""
    await upgrade_schema(engine, MIGRATIONS, SCHEMA_LOCK_KEY, baseline=BASELINE_REVISION)
