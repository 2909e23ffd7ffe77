"""The order rules: create, replace, confirm, soft delete, and reads.

Each function works inside the caller's transaction and never commits: the HTTP layer (or a
test holding a transaction open on purpose) decides when the change becomes visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Row, func
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import selectinload
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordering_api.models import (
    Order,
    OrderAction,
    OrderHistory,
    OrderInput,
    OrderLine,
    OrderStatus,
)
from ordering_api.order_rows import HISTORY, LINES, ORDER_COLUMNS, ORDERS, order_json, order_lines
from service_db.paging import ListSorts, in_asked_order, keyset_page, search_text, searched
from service_db.types import utcnow
from service_http.cursor import CursorCodec, SortKey
from service_http.listing import Direction, ListQuery, Sort

ORDER_CURSOR = CursorCodec("order")


class OrderNotFound(LookupError):
    def __init__(self, number: int) -> None:
        super().__init__(f"Order {number} does not exist.")


class OrderConflict(Exception):
    """The order's status does not allow this change."""


def _line_values(data: OrderInput) -> list[dict[str, Any]]:
    """The input's lines as column values, in position order (order_number left to the caller)."""
    digits = data.digits
    return [
        {
            "position": index,
            "sku": line.sku,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price_cents": line.unit_price_minor(digits),
        }
        for index, line in enumerate(data.lines)
    ]


def _lines(data: OrderInput) -> list[OrderLine]:
    # order_number is filled in by the relationship when the lines are attached to the order.
    return [OrderLine(**values) for values in _line_values(data)]


def _mark_changed(order: Order, now: datetime) -> None:
    """Every change goes through here: a new row version and, once published, a pending mark.

    Clearing `change_seq` in the same transaction as the change is what lets the assigner give
    the change a position only after it has committed.
    """
    order.row_version += 1
    order.updated_at = now
    if order.published:
        order.change_seq = None


def _record(session: AsyncSession, order: Order, action: OrderAction, who: str) -> None:
    """Append the change to the audit trail, in the change's own transaction: the trail holds
    a row exactly when the change committed (an idempotent retry replays the stored answer
    without writing again, so it adds no row)."""
    assert order.number is not None
    session.add(
        OrderHistory(
            order_number=order.number,
            action=action,
            actor=who,
            at=order.updated_at,
            row_version=order.row_version,
        )
    )


async def order_history(session: AsyncSession, number: int) -> list[OrderHistory]:
    """Order `number`'s audit trail, oldest first; OrderNotFound for an unknown order."""
    exists = (await session.exec(select(Order.number).where(Order.number == number))).first()
    if exists is None:
        raise OrderNotFound(number)
    query = (
        select(OrderHistory)
        .where(OrderHistory.order_number == number)
        .order_by(col(OrderHistory.id))
    )
    return list((await session.exec(query)).all())


async def get_order(session: AsyncSession, number: int, *, for_update: bool = False) -> Order:
    query = select(Order).where(Order.number == number).options(selectinload(Order.lines))  # type: ignore[arg-type]
    if for_update:
        # Writers lock the row so read-modify-write never loses a concurrent change.
        query = query.with_for_update()
    order = (await session.exec(query)).first()
    if order is None:
        raise OrderNotFound(number)
    return order


async def get_orders(session: AsyncSession, numbers: Sequence[int]) -> list[Order]:
    """The orders among `numbers` that exist, in the order asked for."""
    if not numbers:
        return []
    query = (
        select(Order).where(col(Order.number).in_(set(numbers))).options(selectinload(Order.lines))  # type: ignore[arg-type]
    )
    return in_asked_order((await session.exec(query)).all(), lambda order: order.number, numbers)


SORTS = ListSorts(
    number=col(Order.number),
    currency=col(Order.currency),
    amount=col(Order.total_cents),
    status=col(Order.status),
    ranks={OrderStatus.DRAFT: 0, OrderStatus.CONFIRMED: 1, OrderStatus.DELETED: 2},
    amount_attribute="total_cents",
)


def sort_key(order: Order, sort: Sort) -> SortKey:
    return SORTS.key(order, sort)


def _searched(query: Any, wanted: ListQuery) -> Any:
    return searched(query, wanted, col(Order.search_text), col(Order.number))


async def list_orders(
    session: AsyncSession, status: OrderStatus | None, wanted: ListQuery
) -> tuple[list[Order], bool]:
    """A page of the list: without `status` all but deleted orders. Returns the orders and
    whether more lie beyond the page in the direction it was read."""
    query = select(Order).options(selectinload(Order.lines))  # type: ignore[arg-type]
    if status is None:
        query = query.where(Order.status != OrderStatus.DELETED)
    else:
        query = query.where(Order.status == status)
    return await keyset_page(
        session,
        _searched(query, wanted),
        SORTS.columns(wanted.sort),
        wanted.direction is Direction.DESC,
        wanted.limit,
        wanted.keyset_boundary,
    )


async def count_orders(session: AsyncSession, wanted: ListQuery) -> dict[OrderStatus, int]:
    """How many orders of each status match the search (every status, zeros included)."""
    query = _searched(select(Order.status, func.count()).group_by(Order.status), wanted)
    counts = dict.fromkeys(OrderStatus, 0)
    for status, count in (await session.exec(query)).all():
        counts[OrderStatus(status)] = count
    return counts


async def create_order(
    session: AsyncSession, data: OrderInput, now: datetime | None = None, *, who: str
) -> dict[str, Any]:
    """A new draft with its lines and its first audit row; the order as the wire has it.

    Plain Core statements (three round trips, as the ORM's unit of work made), like confirm
    and delete below: every order is created once, often by many clerks at once."""
    await session.flush()
    connection = await session.connection()
    now = now or utcnow()
    lines = _line_values(data)
    created = (
        await connection.execute(
            ORDERS.insert()
            .values(
                status=OrderStatus.DRAFT,
                customer_name=data.customer.name,
                customer_email=data.customer.email,
                search_text=search_text(data.customer.name, data.customer.email),
                currency=data.currency,
                total_cents=sum(line["unit_price_cents"] * line["quantity"] for line in lines),
                row_version=1,
                published=False,
                created_at=now,
                updated_at=now,
                created_by=who,
            )
            .returning(*ORDER_COLUMNS)
        )
    ).one()
    for line in lines:
        line["order_number"] = created.number
    if lines:
        await connection.execute(LINES.insert(), lines)
    await _record_row(connection, created, OrderAction.CREATED, who, now)
    return order_json(created, [SimpleNamespace(**line) for line in lines])


async def replace_order(
    session: AsyncSession, number: int, data: OrderInput, now: datetime | None = None, *, who: str
) -> Order:
    order = await get_order(session, number, for_update=True)
    if order.status != OrderStatus.DRAFT:
        raise OrderConflict(f"Order {number} is {order.status}; only drafts can be edited.")
    lines = _lines(data)
    order.customer_name = data.customer.name
    order.customer_email = data.customer.email
    order.search_text = search_text(data.customer.name, data.customer.email)
    order.currency = data.currency
    order.lines = lines
    order.total_cents = sum(line.unit_price_cents * line.quantity for line in lines)
    _mark_changed(order, now or utcnow())
    _record(session, order, OrderAction.EDITED, who)
    await session.flush()
    return order


async def _locked_state(connection: AsyncConnection, number: int) -> tuple[OrderStatus, bool]:
    """Order `number`'s status and `published`, its row locked until the caller's commit (on
    PostgreSQL; a SQLite writer holds the database's write lock already)."""
    query = (
        sa_select(ORDERS.c.status, ORDERS.c.published)
        .where(ORDERS.c.number == number)
        .with_for_update()
    )
    row = (await connection.execute(query)).first()
    if row is None:
        raise OrderNotFound(number)
    return OrderStatus(row.status), row.published


async def _change_status(
    connection: AsyncConnection,
    number: int,
    published: bool,
    changes: dict[str, Any],
    action: OrderAction,
    who: str,
    now: datetime,
) -> Row[Any]:
    """Write a status change as `_mark_changed` and `_record` do for ORM objects: a new row
    version, pending if published, one audit row; the order as it now is (ORDER_COLUMNS)."""
    values = {**changes, "row_version": ORDERS.c.row_version + 1, "updated_at": now}
    if published:
        values["change_seq"] = None
    changed = (
        await connection.execute(
            ORDERS.update()
            .where(ORDERS.c.number == number)
            .values(values)
            .returning(*ORDER_COLUMNS)
        )
    ).one()
    await _record_row(connection, changed, action, who, now)
    return changed


async def _record_row(
    connection: AsyncConnection, order: Row[Any], action: OrderAction, who: str, at: datetime
) -> None:
    """`_record` for the Core writes: the audit row of the change that left `order` as it is."""
    await connection.execute(
        HISTORY.insert().values(
            order_number=order.number,
            action=action,
            actor=who,
            at=at,
            row_version=order.row_version,
        )
    )


# Confirm and delete are the hot writes (every order goes through confirm, under concurrent
# clerks), so they are plain Core statements answering the wire JSON (order_rows.py): the same
# rules and the same four statements as the ORM path, a fraction of its CPU.


async def confirm_order(
    session: AsyncSession, number: int, now: datetime | None = None, *, who: str
) -> dict[str, Any]:
    """Confirm a draft that has lines; the confirmed order as the wire has it."""
    await session.flush()
    connection = await session.connection()
    status, _ = await _locked_state(connection, number)
    if status == OrderStatus.CONFIRMED:
        raise OrderConflict(f"Order {number} is already confirmed.")
    if status == OrderStatus.DELETED:
        raise OrderConflict(f"Order {number} is deleted and cannot be confirmed.")
    lines = await order_lines(connection, number)
    if not lines:
        raise OrderConflict(f"Order {number} has no lines; add at least one before confirming.")
    now = now or utcnow()
    changes = {
        "status": OrderStatus.CONFIRMED,
        "confirmed_at": now,
        "confirmed_by": who,
        "published": True,
    }
    confirmed = await _change_status(
        connection, number, True, changes, OrderAction.CONFIRMED, who, now
    )
    return order_json(confirmed, lines)


async def delete_order(
    session: AsyncSession, number: int, now: datetime | None = None, *, who: str
) -> dict[str, Any]:
    """Soft delete: the row stays, marked deleted, and (if published) flows through the feed;
    the deleted order as the wire has it."""
    await session.flush()
    connection = await session.connection()
    status, published = await _locked_state(connection, number)
    if status == OrderStatus.DELETED:
        raise OrderConflict(f"Order {number} is already deleted.")
    now = now or utcnow()
    changes = {"status": OrderStatus.DELETED, "deleted_at": now, "deleted_by": who}
    deleted = await _change_status(
        connection, number, published, changes, OrderAction.DELETED, who, now
    )
    return order_json(deleted, await order_lines(connection, number))
