"""Long reads hand the event loop over while they run (service_db.yielding): SQLite runs on the
loop's thread, so a walk over every order would otherwise hold every other request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from benchmarks.initial_sync import seed_ordering
from billing_api.db import create_engine as create_billing_engine
from billing_api.db import create_schema as create_billing_schema
from billing_api.db import create_sessions as create_billing_sessions
from billing_api.models import LocalOrder
from billing_api.reconcile import _local
from ordering_api.db import create_engine, create_sessions
from ordering_api.reconcile import range_checksums
from service_db.engine import read_only
from service_db.yielding import YIELD_EVERY, yielding

ORDERS = 3000


async def _turns_during(work: Callable[[], Awaitable[Any]]) -> tuple[int, Any]:
    """How many times another task ran while `work` did, and what `work` returned."""
    turns = 0
    running = True

    async def other_request() -> None:
        nonlocal turns
        while running:
            await asyncio.sleep(0)
            turns += 1

    other = asyncio.create_task(other_request())
    await asyncio.sleep(0)  # it has started
    before = turns
    try:
        result = await work()
        during = turns - before
    finally:
        running = False
        await other
    return during, result


async def test_rows_come_with_a_turn_of_the_loop_every_so_many() -> None:
    async def rows() -> AsyncIterator[int]:
        for row in range(10):
            yield row

    async def walk_both() -> list[int]:
        walked = [row async for row in yielding(range(10), every=3)]
        return walked + [row async for row in yielding(rows(), every=3)]

    turns, walked = await _turns_during(walk_both)
    assert walked == list(range(10)) * 2
    assert turns == 6  # after rows 3, 6 and 9 of each


async def test_reconciliation_walks_on_sqlite_let_other_requests_run(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ordering.db'}"
    await seed_ordering(url, ORDERS)
    engine = create_engine(url)
    try:
        sessions = create_sessions(read_only(engine))

        def checksums(start: int) -> Callable[[], Awaitable[Any]]:
            async def walk() -> Any:
                async with sessions() as session:
                    return await range_checksums(session, start, 1000, 10)

            return walk

        # The same statements over a range without orders: the turns the rows do not bring.
        baseline, empty = await _turns_during(checksums(10 * ORDERS))
        turns, page = await _turns_during(checksums(1))
        assert empty.ranges == [] and sum(r.count for r in page.ranges) == ORDERS
        assert turns - baseline >= ORDERS // YIELD_EVERY
    finally:
        await engine.dispose()


async def test_billings_copy_is_read_for_reconciliation_letting_other_requests_run(
    tmp_path: Path,
) -> None:
    engine = create_billing_engine(f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}")
    try:
        await create_billing_schema(engine)
        moment = datetime(2026, 11, 22, tzinfo=UTC)
        copy = {
            "status": "confirmed",
            "customer_name": "Ada",
            "customer_email": "ada@example.com",
            "currency": "EUR",
            "lines": [],
            "total": "1.00",
            "row_version": 2,
            "created_at": moment,
            "updated_at": moment,
            "stored_at": moment,
        }
        sessions = create_billing_sessions(read_only(engine))
        baseline, empty = await _turns_during(lambda: _local(sessions, 1000))
        assert empty.orders == {}
        async with engine.begin() as connection:
            await connection.execute(
                insert(LocalOrder), [{"number": n, **copy} for n in range(1, ORDERS + 1)]
            )
        turns, local = await _turns_during(lambda: _local(sessions, 1000))
        assert len(local.orders) == ORDERS
        assert turns - baseline >= ORDERS // YIELD_EVERY
    finally:
        await engine.dispose()
