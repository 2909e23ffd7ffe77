"""Orders as plain rows: the tables, the columns an answer needs, and the wire JSON built from them.

The feed and the hot writes (confirm, delete) read and answer through here rather than through
ORM objects and `OrderPublic`: on those paths the model round trip (identity map, unit of work,
a pydantic model, then its dump) cost more CPU than the database work, and under concurrent
writers on SQLite that CPU is what a confirm queues behind. `order_json` is exactly what
`OrderPublic.of(order).model_dump(mode="json")` gives (tests/ordering_api/test_feed_shape.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Table
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncConnection

from ordering_api.models import FeedCounter, Order, OrderHistory, OrderLine, OrderStatus
from service_http.currencies import currency_digits
from service_http.money import minor_units_to_wire

ORDERS: Table = Order.__table__  # type: ignore[attr-defined]
LINES: Table = OrderLine.__table__  # type: ignore[attr-defined]
HISTORY: Table = OrderHistory.__table__  # type: ignore[attr-defined]
COUNTERS: Table = FeedCounter.__table__  # type: ignore[attr-defined]

# What an answer needs, and nothing else (`published` is implied by having a position).
ORDER_COLUMNS = tuple(
    ORDERS.c[name]
    for name in (
        "number",
        "status",
        "customer_name",
        "customer_email",
        "currency",
        "total_cents",
        "row_version",
        "change_seq",
        "created_at",
        "updated_at",
        "confirmed_at",
        "deleted_at",
        "created_by",
        "confirmed_by",
        "deleted_by",
    )
)
LINE_COLUMNS = tuple(
    LINES.c[name] for name in ("order_number", "sku", "description", "quantity", "unit_price_cents")
)


def _iso(moment: datetime) -> str:
    """The wire's UTC timestamp, as OrderPublic writes it (SQLite hands back naive UTC)."""
    if moment.tzinfo is None:
        return moment.isoformat() + "Z"
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _line_json(line: Any, digits: int) -> dict[str, Any]:
    return {
        "sku": line.sku,
        "description": line.description,
        "quantity": line.quantity,
        "unit_price": minor_units_to_wire(line.unit_price_cents, digits),
        "amount": minor_units_to_wire(line.unit_price_cents * line.quantity, digits),
    }


def order_json(order: Row[Any], line_rows: Sequence[Any]) -> dict[str, Any]:
    """An order exactly as `OrderPublic.of(...).model_dump(mode="json")` has it, from a row of
    ORDER_COLUMNS and its lines in position order (rows of LINE_COLUMNS, or anything with
    those attributes)."""
    digits = currency_digits(order.currency)
    lines = [_line_json(line, digits) for line in line_rows]
    return {
        "number": order.number,
        "status": OrderStatus(order.status).value,
        "customer": {"name": order.customer_name, "email": order.customer_email},
        "currency": order.currency,
        "lines": lines,
        "total": minor_units_to_wire(order.total_cents, digits),
        "row_version": order.row_version,
        "change_seq": order.change_seq,
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
        "confirmed_at": _iso(order.confirmed_at) if order.confirmed_at else None,
        "deleted_at": _iso(order.deleted_at) if order.deleted_at else None,
        "created_by": order.created_by,
        "confirmed_by": order.confirmed_by,
        "deleted_by": order.deleted_by,
    }


async def order_lines(connection: AsyncConnection, number: int) -> list[Row[Any]]:
    """Order `number`'s lines (LINE_COLUMNS), in position order."""
    query = (
        sa_select(*LINE_COLUMNS).where(LINES.c.order_number == number).order_by(LINES.c.position)
    )
    return list((await connection.execute(query)).all())
