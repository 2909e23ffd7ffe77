"""The order rules: create, replace, confirm, soft delete, and reads.

Each function works inside the caller's transaction and never commits: the HTTP layer (or a
test holding a transaction open on purpose) decides when the change becomes visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
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
from service_db.paging import ListSorts, contains, in_asked_order, keyset_page, search_text
from service_db.types import utcnow
from service_http.cursor import CursorCodec, SortKey
from service_http.listing import Direction, ListQuery, Sort

ORDER_CURSOR = CursorCodec("order")


class OrderNotFound(LookupError):
    def __init__(self, number: int) -> None:
        super().__init__(f"Order {number} does not exist.")


class OrderConflict(Exception):
    """The order's status does not allow this change."""


def _lines(data: OrderInput) -> list[OrderLine]:
    # order_number is filled in by the relationship when the lines are attached to the order.
    digits = data.digits
    return [
        OrderLine(  # type: ignore[call-arg]
            position=index,
            sku=line.sku,
            description=line.description,
            quantity=line.quantity,
            unit_price_cents=line.unit_price_minor(digits),
        )
        for index, line in enumerate(data.lines)
    ]


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


def _searched(query: Any, search: ListQuery) -> Any:
    if search.search is None:
        return query
    matches = contains(col(Order.search_text), search.search)
    number = search.searched_number
    return query.where(or_(matches, col(Order.number) == number) if number is not None else matches)


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
) -> Order:
    now = now or utcnow()
    lines = _lines(data)
    order = Order(
        customer_name=data.customer.name,
        customer_email=data.customer.email,
        search_text=search_text(data.customer.name, data.customer.email),
        currency=data.currency,
        lines=lines,
        total_cents=sum(line.unit_price_cents * line.quantity for line in lines),
        created_at=now,
        updated_at=now,
        created_by=who,
    )
    session.add(order)
    await session.flush()
    _record(session, order, OrderAction.CREATED, who)
    await session.flush()
    return order


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


async def confirm_order(
    session: AsyncSession, number: int, now: datetime | None = None, *, who: str
) -> Order:
    order = await get_order(session, number, for_update=True)
    if order.status == OrderStatus.CONFIRMED:
        raise OrderConflict(f"Order {number} is already confirmed.")
    if order.status == OrderStatus.DELETED:
        raise OrderConflict(f"Order {number} is deleted and cannot be confirmed.")
    if not order.lines:
        raise OrderConflict(f"Order {number} has no lines; add at least one before confirming.")
    now = now or utcnow()
    order.status = OrderStatus.CONFIRMED
    order.confirmed_at = now
    order.confirmed_by = who
    order.published = True
    _mark_changed(order, now)
    _record(session, order, OrderAction.CONFIRMED, who)
    await session.flush()
    return order


async def delete_order(
    session: AsyncSession, number: int, now: datetime | None = None, *, who: str
) -> Order:
    """Soft delete: the row stays, marked deleted, and (if published) flows through the feed."""
    order = await get_order(session, number, for_update=True)
    if order.status == OrderStatus.DELETED:
        raise OrderConflict(f"Order {number} is already deleted.")
    now = now or utcnow()
    order.status = OrderStatus.DELETED
    order.deleted_at = now
    order.deleted_by = who
    _mark_changed(order, now)
    _record(session, order, OrderAction.DELETED, who)
    await session.flush()
    return order
