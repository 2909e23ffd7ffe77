"""What billing needs to reconcile its copy with ordering: per range of order numbers, the count
and checksum of the published orders, and the digests of one range's orders
(service_http.order_digest defines both; billing computes the same over its copy)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Table, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordering_api.models import Order, OrderStatus
from service_db.yielding import yielding
from service_http.money import minor_units_to_wire
from service_http.order_digest import (
    MASK,
    ChecksumPage,
    DigestList,
    OrderDigest,
    RangeChecksum,
    hex64,
    order_digest,
    range_of,
)
from service_http.params import MAX_INT64

_ORDERS: Table = Order.__table__  # type: ignore[attr-defined]
_COLUMNS = (
    "number",
    "status",
    "row_version",
    "total_cents",
    "currency",
    "customer_name",
    "customer_email",
    "created_at",
)
# Rows fetched from the database per round trip while streaming a window.
_CHUNK = 1000


def _digest(row: Any) -> int:
    return order_digest(
        row.number,
        OrderStatus(row.status).value,
        row.row_version,
        minor_units_to_wire(row.total_cents),
        row.currency,
        row.customer_name,
        row.customer_email,
        row.created_at,
    )


async def _published(session: AsyncSession, first: int, last: int) -> AsyncIterator[Any]:
    """Published orders numbered first..last, by number, a chunk at a time."""
    connection = await session.connection()
    after = first - 1
    while True:
        rows = (
            await connection.execute(
                select(*(_ORDERS.c[name] for name in _COLUMNS))
                .where(
                    _ORDERS.c.published.is_(True),
                    _ORDERS.c.number > after,
                    _ORDERS.c.number <= last,
                )
                .order_by(_ORDERS.c.number)
                .limit(_CHUNK)
            )
        ).all()
        async for row in yielding(rows):
            yield row
        if len(rows) < _CHUNK:
            return
        after = rows[-1].number


async def range_checksums(
    session: AsyncSession, start: int, size: int, ranges: int
) -> ChecksumPage:
    """Count and checksum of up to `ranges` ranges of `size` numbers from number `start`."""
    last = min(start + size * ranges - 1, MAX_INT64)
    totals: dict[int, list[int]] = {}
    async for row in _published(session, start, last):
        entry = totals.setdefault(range_of(row.number, size, start), [0, 0])
        entry[0] += 1
        entry[1] = (entry[1] + _digest(row)) & MASK
    connection = await session.connection()
    highest = (
        await connection.execute(
            select(func.max(_ORDERS.c.number)).where(_ORDERS.c.published.is_(True))
        )
    ).scalar()
    return ChecksumPage(
        ranges=[
            RangeChecksum(
                first=first,
                last=min(first + size - 1, MAX_INT64),
                count=count,
                checksum=hex64(total),
            )
            for first, (count, total) in sorted(totals.items())
        ],
        next_start=last + 1 if highest is not None and highest > last else None,
    )


async def digests(session: AsyncSession, first: int, count: int) -> DigestList:
    """The digest of every published order numbered first..first+count-1."""
    last = min(first + count - 1, MAX_INT64)
    return DigestList(
        orders=[
            OrderDigest(
                number=row.number,
                status=OrderStatus(row.status).value,
                row_version=row.row_version,
                digest=hex64(_digest(row)),
            )
            async for row in _published(session, first, last)
        ]
    )
