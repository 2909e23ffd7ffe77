"""Billing's rules: apply an order to the local copy, and the invoice life cycle.

Every function takes a session inside a transaction the caller owns, so that an order, its
invoice and (for a pull) the continuation token commit or roll back together.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from billing_api.models import Invoice, InvoiceStatus, LocalOrder, OrderStatus, OrderWire

MAX_BATCH = 100
MAX_PAGE = 100


class InvoiceNotFound(Exception):
    """No invoice with that number."""


class InvoiceIsVoid(Exception):
    """A void invoice cannot be approved."""


class InvalidCursor(ValueError):
    """The `after` cursor was not made by this service."""


class ApplyOutcome(StrEnum):
    NEW = "new"  # first stored
    CHANGED = "changed"  # a newer version that is not a delete
    REMOVED = "removed"  # a newer version that turns the order deleted
    STALE = "stale"  # not newer than the stored version: ignored
    IGNORED = "ignored"  # never confirmed, so not published: billing has no business with it


@dataclass(frozen=True)
class ApplyResult:
    outcome: ApplyOutcome
    invoice_created: bool = False


def now_utc() -> datetime:
    return datetime.now(UTC)


def _insert(session: AsyncSession, table: Any) -> Any:
    """A dialect insert that supports ON CONFLICT (SQLite and PostgreSQL have the same API)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _order_values(order: OrderWire, now: datetime) -> dict[str, Any]:
    return {
        "number": order.number,
        "status": order.status.value,
        "customer_name": order.customer.name,
        "customer_email": order.customer.email,
        "currency": order.currency,
        "lines": [line.model_dump(mode="json") for line in order.lines],
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
    """Find by key, create if not found; apply only a newer `row_version`.

    Safe against replays and concurrent appliers (another replica, the deep link): the insert
    is `ON CONFLICT DO NOTHING`, the update path locks the stored row first, and the invoice
    insert relies on `UNIQUE(order_number)`.
    """
    if not order.was_confirmed:
        return ApplyResult(ApplyOutcome.IGNORED)

    local_orders: Table = LocalOrder.__table__  # type: ignore[attr-defined]
    inserted = await session.exec(
        _insert(session, local_orders)
        .values(**_order_values(order, now))
        .on_conflict_do_nothing(index_elements=["number"])
        .returning(local_orders.c.number)
    )
    if inserted.first() is not None:
        created = await _create_invoice(session, order, now)
        return ApplyResult(ApplyOutcome.NEW, invoice_created=created)

    stored = (
        await session.exec(
            select(LocalOrder)
            .where(LocalOrder.number == order.number)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    if order.row_version <= stored.row_version:
        if (
            order.row_version == stored.row_version
            and order.change_seq is not None
            and (stored.change_seq is None or order.change_seq > stored.change_seq)
        ):
            # Same data, now with its feed position (the deep link stored it while pending).
            stored.change_seq = order.change_seq
            session.add(stored)
            await session.flush()
        return ApplyResult(ApplyOutcome.STALE)

    was_deleted = stored.status == OrderStatus.DELETED
    for field, value in _order_values(order, now).items():
        setattr(stored, field, value)
    session.add(stored)

    invoice = await _invoice_for_order(session, order.number)
    if invoice is None:
        # Cannot happen through apply_order (the invoice is made with the order), but a row
        # written by an older version or by hand must still end up with its one invoice.
        created = await _create_invoice(session, order, now)
    else:
        created = False
        _follow_order(invoice, order, now)
        session.add(invoice)
    await session.flush()
    removed = order.status is OrderStatus.DELETED and not was_deleted
    return ApplyResult(
        ApplyOutcome.REMOVED if removed else ApplyOutcome.CHANGED, invoice_created=created
    )


async def _create_invoice(session: AsyncSession, order: OrderWire, now: datetime) -> bool:
    """Insert the order's one invoice; False when it already exists."""
    deleted = order.status is OrderStatus.DELETED
    invoices: Table = Invoice.__table__  # type: ignore[attr-defined]
    result = await session.exec(
        _insert(session, invoices)
        .values(
            order_number=order.number,
            amount=order.total,
            currency=order.currency,
            # An order first seen already deleted was confirmed once: its invoice is born void.
            status=(InvoiceStatus.VOID if deleted else InvoiceStatus.PENDING_APPROVAL).value,
            order_deleted=deleted,
            customer_name=order.customer.name,
            customer_email=order.customer.email,
            created_at=now,
            voided_at=now if deleted else None,
        )
        .on_conflict_do_nothing(index_elements=["order_number"])
        .returning(invoices.c.number)
    )
    return result.first() is not None


def _follow_order(invoice: Invoice, order: OrderWire, now: datetime) -> None:
    if order.status is OrderStatus.DELETED:
        invoice.order_deleted = True
        if invoice.status == InvoiceStatus.PENDING_APPROVAL:
            invoice.status = InvoiceStatus.VOID.value
            invoice.voided_at = now
        # An approved invoice stays approved; `order_deleted` flags it for a person.
        return
    if invoice.status == InvoiceStatus.PENDING_APPROVAL:
        # Not approved yet, so it still mirrors the order.
        invoice.amount = order.total
        invoice.currency = order.currency
        invoice.customer_name = order.customer.name
        invoice.customer_email = order.customer.email


async def _invoice_for_order(session: AsyncSession, order_number: int) -> Invoice | None:
    result = await session.exec(
        select(Invoice)
        .where(Invoice.order_number == order_number)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.first()


async def find_invoice_for_order(session: AsyncSession, order_number: int) -> Invoice | None:
    result = await session.exec(select(Invoice).where(Invoice.order_number == order_number))
    return result.first()


async def get_invoice(session: AsyncSession, number: int) -> Invoice:
    invoice = (await session.exec(select(Invoice).where(Invoice.number == number))).first()
    if invoice is None:
        raise InvoiceNotFound(number)
    return invoice


async def approve_invoice(session: AsyncSession, number: int, now: datetime) -> Invoice:
    """pending_approval -> approved; approving an approved invoice again is a no-op."""
    invoice = (
        await session.exec(
            select(Invoice)
            .where(Invoice.number == number)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()
    if invoice is None:
        raise InvoiceNotFound(number)
    if invoice.status == InvoiceStatus.VOID:
        raise InvoiceIsVoid(number)
    if invoice.status == InvoiceStatus.PENDING_APPROVAL:
        invoice.status = InvoiceStatus.APPROVED.value
        invoice.approved_at = now
        session.add(invoice)
        await session.flush()
    return invoice


async def invoices_for_orders(session: AsyncSession, order_numbers: list[int]) -> list[Invoice]:
    """The invoices of these orders, in the asked order; orders without one are left out."""
    wanted = list(dict.fromkeys(order_numbers))
    result = await session.exec(select(Invoice).where(col(Invoice.order_number).in_(wanted)))
    by_order = {invoice.order_number: invoice for invoice in result.all()}
    return [by_order[n] for n in wanted if n in by_order]


async def invoices_by_number(session: AsyncSession, numbers: list[int]) -> list[Invoice]:
    """These invoices, in the asked order; unknown numbers are left out."""
    wanted = list(dict.fromkeys(numbers))
    result = await session.exec(select(Invoice).where(col(Invoice.number).in_(wanted)))
    by_number = {invoice.number: invoice for invoice in result.all()}
    return [by_number[n] for n in wanted if n in by_number]


def encode_cursor(invoice_number: int) -> str:
    return base64.urlsafe_b64encode(f"inv:{invoice_number}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor(cursor) from exc
    prefix, _, number = raw.partition(":")
    if prefix != "inv" or not number.isdigit() or len(number) > 18:
        raise InvalidCursor(cursor)
    return int(number)


async def list_invoices(
    session: AsyncSession, status: InvoiceStatus | None, limit: int, after: str | None
) -> tuple[list[Invoice], str | None]:
    """A page of invoices, newest first, and the cursor of the next page (None at the end)."""
    query = select(Invoice)
    if status is not None:
        query = query.where(Invoice.status == status.value)
    if after is not None:
        query = query.where(col(Invoice.number) < decode_cursor(after))
    query = query.order_by(col(Invoice.number).desc()).limit(limit + 1)
    rows = list((await session.exec(query)).all())
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    last = page[-1].number
    assert last is not None
    return page, encode_cursor(last)
