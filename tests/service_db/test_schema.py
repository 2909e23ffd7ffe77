"""Replicas starting at the same moment on one PostgreSQL database all come up.

Without the advisory lock around CREATE TABLE, concurrent starts failed with a unique violation
in PostgreSQL's catalog (every round of 4-at-once starts, when this was found).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from billing_api.db import create_schema as create_billing_schema
from ordering_api.db import create_schema as create_ordering_schema
from ordering_api.db import create_sessions
from ordering_api.feed import ensure_feed_counter
from service_db.engine import create_engine

pytestmark = pytest.mark.postgres

REPLICAS = 4


async def _start(url: str, create: Callable[[AsyncEngine], Awaitable[None]]) -> str | None:
    engine = create_engine(url)
    try:
        await create(engine)
        if create is create_ordering_schema:
            return await ensure_feed_counter(create_sessions(engine))
        return None
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "create", [create_ordering_schema, create_billing_schema], ids=["ordering", "billing"]
)
async def test_concurrent_starts_all_succeed(
    pg_url: str, create: Callable[[AsyncEngine], Awaitable[None]]
) -> None:
    results = await asyncio.gather(*(_start(pg_url, create) for _ in range(REPLICAS)))
    # Ordering: every replica agrees on the one feed id the first one made.
    assert len(set(results)) == 1
