"""The BFF's own database (accounts): the shared engine plumbing plus its migrations."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from service_db.schema import upgrade_schema

MIGRATIONS = "bff:migrations"
# Serializes schema changes between replicas starting at once on one PostgreSQL database.
SCHEMA_LOCK_KEY = 0x62666631  # "bff1"


async def create_schema(engine: AsyncEngine) -> None:
    """Bring the accounts database to the newest migration (idempotent; runs at every start)."""
    await upgrade_schema(engine, MIGRATIONS, SCHEMA_LOCK_KEY)
