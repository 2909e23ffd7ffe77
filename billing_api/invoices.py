"""Billing's rules with persistence: apply an order to the local copy, approve, and reads.

The decisions themselves are the pure functions of `lifecycle.py`; this module reads what they
need, asks, and writes the answer. Every function takes a session inside a transaction the
caller owns, so that an order, its invoice and (for a pull) the continuation token commit or
roll back together.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from billing_api.invoice_history import SYNC_ACTOR, invoice_history, record, record_for_orders
from billing_api.lifecycle import (
    ApplyOutcome,
    InvoiceAction,
    InvoiceIsVoid,
    InvoiceOrderDeleted,
    OrderVersion,
    OrderWrite,
    approval,
    decide,
    invoice_changes,
    new_invoice,
)
from billing_api.models import (
    Invoice,
    InvoiceEvent,
    InvoiceHistory,
    InvoiceStatus,
    LocalOrder,
    OrderStatus,
    OrderWire,
)
from service_db.paging import ListSorts, in_asked_order, keyset_page, searched
from service_http.cursor import CursorCodec, InvalidCursor, SortKey
from service_http.listing import Direction, ListQuery, Sort

__all__ = [
    "ApplyOutcome",
    "ApplyResult",
    "InvalidCursor",
    "InvoiceIsVoid",
    "InvoiceNotFound",
    "InvoiceOrderDeleted",
    "apply_order",
    "apply_orders",
    "approve_invoice",
    "decode_cursor",
    "encode_cursor",
    "find_invoice_for_order",
    "get_invoice",
    "invoices_for_orders",
    "list_invoices",
]

logger = logging.getLogger("billing_api.invoices")

INVOICE_CURSOR = CursorCodec("inv")
encode_cursor = INVOICE_CURSOR.encode
decode_cursor = INVOICE_CURSOR.decode


class InvoiceNotFound(LookupError):
    def __init__(self, number: int) -> None:
        super().__init__(f"No invoice {number}.")
        self.number = number


@dataclass(frozen=True)
class ApplyResult:
    outcome: ApplyOutcome
    invoice_created: bool = False


def _insert(session: AsyncSession, table: Any) -> Any:
    """A dialect insert that supports ON CONFLICT (SQLite and PostgreSQL have the same API)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _order_values(order: OrderWire, now: datetime) -> dict[str, Any]:
    return {
        "number": order.number,
        "status": order.status,
        "customer_name": order.customer.name,
        "customer_email": order.customer.email,
        "currency": order.currency,
        # The fields as plain values (what model_dump(mode="json") gives, without its cost:
        # this runs for every order of every page).
        "lines": [
            {
                "sku": line.sku,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "amount": line.amount,
            }
            for line in order.lines
        ],
        "total": order.total,
        "row_version": order.row_version,
        "change_seq": order.change_seq,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "confirmed_at": order.confirmed_at,
        "deleted_at": order.deleted_at,
        "stored_at": now,
    }


async def apply_order(session: AsyncSession, order: OrderWire, now: datetime) -> ApplyResult:
    """Find by key, create if not found; apply only a newer `row_version` (lifecycle.decide).

    Safe against replays and concurrent appliers (another replica, the deep link): the first
    store is `INSERT ... ON CONFLICT DO NOTHING`, a later one locks the stored row and its
    invoice first, and the invoice insert relies on `UNIQUE(order_number)`.
    """
    incoming = OrderVersion.of(order)
    first_time = decide(incoming, None, None)
    if first_time.outcome is ApplyOutcome.IGNORED:
        return ApplyResult(ApplyOutcome.IGNORED)

    local_orders: Table = LocalOrder.__table__  # type: ignore[attr-defined]
    inserted = await session.exec(
        _insert(session, local_orders)
        .values(**_order_values(order, now))
        .on_conflict_do_nothing(index_elements=["number"])
        .returning(local_orders.c.number)
    )
    if inserted.first() is not None:
        created = await _create_invoice(session, first_time.invoice, order, now)
        await _record_created(session, first_time.invoice, order, now, created)
        return ApplyResult(ApplyOutcome.NEW, invoice_created=created)

    stored = await _locked(session, select(LocalOrder).where(LocalOrder.number == order.number))
    assert stored is not None, "the insert found it, and local orders are never removed"
    invoice = await _locked(session, select(Invoice).where(Invoice.order_number == order.number))
    decision = decide(
        incoming,
        OrderVersion(
            stored.status, stored.row_version, stored.change_seq, created_at=stored.created_at
        ),
        invoice.status if invoice is not None else None,
    )
    if decision.order is OrderWrite.POSITION:
        stored.change_seq = order.change_seq
    elif decision.order is OrderWrite.ALL:
        for field, value in _order_values(order, now).items():
            setattr(stored, field, value)
    session.add(stored)
    created = False
    if decision.invoice in (InvoiceAction.CREATE_PENDING, InvoiceAction.CREATE_VOID):
        # Not through apply_order (the invoice is made with the order), but a row written by
        # an older version or by hand must still end up with its one invoice.
        created = await _create_invoice(session, decision.invoice, order, now)
        await _record_created(session, decision.invoice, order, now, created)
    elif invoice is not None:
        for field, value in invoice_changes(decision.invoice, order, now).items():
            setattr(invoice, field, value)
        session.add(invoice)
        if decision.invoice is InvoiceAction.VOID:
            assert invoice.number is not None
            record(session, invoice.number, InvoiceEvent.VOIDED, SYNC_ACTOR, now, order.row_version)
    await session.flush()
    return ApplyResult(decision.outcome, invoice_created=created)


async def apply_orders(
    session: AsyncSession, orders: Sequence[OrderWire], now: datetime
) -> Counter[str]:
    """Apply a feed page's orders in order; count the outcomes by name (new, changed, removed,
    stale) and the invoices created (`invoices_created`), as the sync state row totals them."""
    counts: Counter[str] = Counter()
    for order in orders:
        result = await apply_order(session, order, now)
        if result.outcome is ApplyOutcome.IGNORED:
            logger.warning("feed carried order %d that was never confirmed: ignored", order.number)
            continue
        counts[result.outcome.value] += 1
        counts["invoices_created"] += result.invoice_created
    return counts


async def _locked(session: AsyncSession, query: Any) -> Any:
    """The row `query` finds, locked until commit (PostgreSQL), read afresh."""
    result = await session.exec(query.with_for_update().execution_options(populate_existing=True))
    return result.first()


async def _create_invoice(
    session: AsyncSession, action: InvoiceAction, order: OrderWire, now: datetime
) -> bool:
    """Insert the order's one invoice; False when it already exists."""
    invoices: Table = Invoice.__table__  # type: ignore[attr-defined]
    result = await session.exec(
        _insert(session, invoices)
        .values(**new_invoice(action, order, now))
        .on_conflict_do_nothing(index_elements=["order_number"])
        .returning(invoices.c.number)
    )
    return result.first() is not None


async def _record_created(
    session: AsyncSession, action: InvoiceAction, order: OrderWire, now: datetime, created: bool
) -> None:
    if not created:
        return
    await session.flush()
    connection = await session.connection()
    orders = [(order.number, order.row_version)]
    await record_for_orders(connection, InvoiceEvent.CREATED, orders, now)
    if action is InvoiceAction.CREATE_VOID:
        await record_for_orders(connection, InvoiceEvent.VOIDED, orders, now)


async def find_invoice_for_order(session: AsyncSession, order_number: int) -> Invoice | None:
    result = await session.exec(select(Invoice).where(Invoice.order_number == order_number))
    return result.first()


async def get_invoice(session: AsyncSession, number: int) -> Invoice:
    invoice = (await session.exec(select(Invoice).where(Invoice.number == number))).first()
    if invoice is None:
        raise InvoiceNotFound(number)
    return invoice


async def approve_invoice(
    session: AsyncSession, number: int, now: datetime, *, who: str
) -> Invoice:
    """pending_approval -> approved; approving an approved invoice again is a no-op.

    Safe against an apply running at the same time (a pull bringing the order's delete): the
    local order and then the invoice are locked (PostgreSQL; the order in which the apply locks
    them, so neither waits for the other in a cycle; on SQLite the transaction holds the
    database's write lock), the decision is taken on what is locked, and the UPDATE itself is
    conditional on the invoice still pending and its order not deleted.
    """
    order_number = (
        await session.exec(select(Invoice.order_number).where(Invoice.number == number))
    ).first()
    if order_number is None:
        raise InvoiceNotFound(number)
    order: LocalOrder | None = await _locked(
        session, select(LocalOrder).where(LocalOrder.number == order_number)
    )
    invoice: Invoice | None = await _locked(
        session, select(Invoice).where(Invoice.number == number)
    )
    if invoice is None:  # pragma: no cover - invoices are never removed
        raise InvoiceNotFound(number)
    deleted = invoice.order_deleted or (order is not None and order.status is OrderStatus.DELETED)
    approval(number, invoice.status, order_number=order_number, order_deleted=deleted)
    if invoice.status is InvoiceStatus.APPROVED:
        return invoice
    order_stands = (
        select(LocalOrder.number)
        .where(LocalOrder.number == Invoice.order_number)
        .where(LocalOrder.status != OrderStatus.DELETED)
        .exists()
    )
    connection = await session.connection()
    result = await connection.execute(
        update(Invoice)
        .where(
            col(Invoice.number) == number,
            col(Invoice.status) == InvoiceStatus.PENDING_APPROVAL,
            col(Invoice.order_deleted).is_(False),
            order_stands,
        )
        .values(status=InvoiceStatus.APPROVED, approved_at=now, approved_by=who)
    )
    if result.rowcount != 1:  # pragma: no cover - the locks above make this unreachable
        raise InvoiceOrderDeleted(number, order_number)
    # Only a real approval is recorded: approving again (above) changes nothing.
    version = order.row_version if order is not None else 0
    record(session, number, InvoiceEvent.APPROVED, who, now, version)
    await session.refresh(invoice)
    return invoice


async def get_invoice_history(session: AsyncSession, number: int) -> list[InvoiceHistory]:
    """Invoice `number`'s audit trail, oldest first; InvoiceNotFound for an unknown one."""
    await get_invoice(session, number)
    return await invoice_history(session, number)


async def invoices_for_orders(session: AsyncSession, order_numbers: Sequence[int]) -> list[Invoice]:
    """The invoices of these orders, in the asked order; orders without one are left out."""
    wanted = list(dict.fromkeys(order_numbers))
    result = await session.exec(select(Invoice).where(col(Invoice.order_number).in_(wanted)))
    return in_asked_order(result.all(), lambda invoice: invoice.order_number, wanted)


async def invoices_by_number(session: AsyncSession, numbers: Sequence[int]) -> list[Invoice]:
    """These invoices, in the asked order; unknown numbers are left out."""
    wanted = list(dict.fromkeys(numbers))
    result = await session.exec(select(Invoice).where(col(Invoice.number).in_(wanted)))
    return in_asked_order(result.all(), lambda invoice: invoice.number, wanted)


SORTS = ListSorts(
    number=col(Invoice.number),
    currency=col(Invoice.currency),
    amount=col(Invoice.amount_minor),
    status=col(Invoice.status),
    ranks={InvoiceStatus.PENDING_APPROVAL: 0, InvoiceStatus.APPROVED: 1, InvoiceStatus.VOID: 2},
    amount_attribute="amount_minor",
)


def sort_key(invoice: Invoice, sort: Sort) -> SortKey:
    return SORTS.key(invoice, sort)


def _searched(query: Any, wanted: ListQuery) -> Any:
    # A number may be the invoice's or its order's.
    return searched(
        query, wanted, col(Invoice.search_text), col(Invoice.number), col(Invoice.order_number)
    )


async def list_invoices(
    session: AsyncSession, status: InvoiceStatus | None, wanted: ListQuery
) -> tuple[list[Invoice], bool]:
    """A page of the list; returns the invoices and whether more lie beyond the page in the
    direction it was read."""
    query = select(Invoice)
    if status is not None:
        query = query.where(Invoice.status == status)
    return await keyset_page(
        session,
        _searched(query, wanted),
        SORTS.columns(wanted.sort),
        wanted.direction is Direction.DESC,
        wanted.limit,
        wanted.keyset_boundary,
    )


async def count_invoices(session: AsyncSession, wanted: ListQuery) -> dict[InvoiceStatus, int]:
    """How many invoices of each status match the search (every status, zeros included)."""
    query = _searched(select(Invoice.status, func.count()).group_by(Invoice.status), wanted)
    counts = dict.fromkeys(InvoiceStatus, 0)
    for status, count in (await session.exec(query)).all():
        counts[InvoiceStatus(status)] = count
    return counts
