"""Long reads that let the event loop serve other requests while they run.

SQLite runs on the event loop's thread (sqlite_inline.py), so awaiting one of its calls never
suspends: a read that walks every order (reconciliation's checksums and digests, over 100,000
orders) held the loop for its whole length, statements and the Python work on each row alike.
Measured: a reconciliation stalled billing's loop for 2.4 s and ordering's for 1.1 s, every
other request (deep links, approvals, health checks) waiting behind it. Rows walked through
`yielding` hand the loop over every `every` rows; on PostgreSQL the driver's awaits suspend
anyway, and the extra turns cost next to nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import TypeVar

T = TypeVar("T")

# Rows between two turns of the loop: a few milliseconds of digesting.
YIELD_EVERY = 500


async def yielding(
    rows: Iterable[T] | AsyncIterable[T], every: int = YIELD_EVERY
) -> AsyncIterator[T]:
    """The rows, one by one, with a turn of the event loop after every `every` of them."""
    count = 0
    async for row in _each(rows):
        yield row
        count += 1
        if count % every == 0:
            await asyncio.sleep(0)


async def _each(rows: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row
