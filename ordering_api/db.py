"""Ordering's database: the shared engine plumbing (service_db) plus its own schema."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from ordering_api.models import OrderingTable
from service_db.engine import Sessions, create_engine, create_sessions, read_only
from service_db.schema import create_tables

__all__ = ["Sessions", "create_engine", "create_schema", "create_sessions", "read_only"]

# Serializes schema creation between replicas starting at once on one PostgreSQL database.
SCHEMA_LOCK_KEY = 0x6F726472  # "ordr"


async def create_schema(engine: AsyncEngine) -> None:
    await create_tables(engine, OrderingTable.metadata, SCHEMA_LOCK_KEY)
