"""Billing's audit trail: who created, approved and voided an invoice, appended in the same
transaction as the change (so an idempotent retry, which replays the stored answer, adds no
row, and a rolled-back pull leaves none)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import DateTime, String, Table, bindparam, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col
from sqlmodel import select as select_rows
from sqlmodel.ext.asyncio.session import AsyncSession

from billing_api.models import Invoice, InvoiceEvent, InvoiceHistory
from service_db.types import BIG_INT

# The pull creates and voids invoices on its own account, following ordering's feed.
SYNC_ACTOR = "billing sync"

_HISTORY: Table = InvoiceHistory.__table__  # type: ignore[attr-defined]
_INVOICES: Table = Invoice.__table__  # type: ignore[attr-defined]


def record(
    session: AsyncSession,
    invoice_number: int,
    event: InvoiceEvent,
    actor: str,
    at: datetime,
    order_version: int,
) -> None:
    session.add(
        InvoiceHistory(
            invoice_number=invoice_number,
            action=event,
            actor=actor,
            at=at,
            order_version=order_version,
        )
    )


async def record_for_orders(
    connection: AsyncConnection,
    event: InvoiceEvent,
    orders: Sequence[tuple[int, int]],
    at: datetime,
    actor: str = SYNC_ACTOR,
) -> None:
    """Append `event` for the invoices of these (order number, order version) pairs: one
    executemany `INSERT ... SELECT` (a page's worth in one statement, like page_apply)."""
    if not orders:
        return
    statement = insert(_HISTORY).from_select(
        ["invoice_number", "action", "actor", "at", "order_version"],
        select(
            _INVOICES.c.number,
            literal(event.value, String()),
            literal(actor, String()),
            bindparam("_at", type_=DateTime(timezone=True)),
            bindparam("_version", type_=BIG_INT),
        ).where(_INVOICES.c.order_number == bindparam("_order")),
    )
    await connection.execute(
        statement,
        [{"_order": number, "_version": version, "_at": at} for number, version in orders],
    )


async def invoice_history(session: AsyncSession, number: int) -> list[InvoiceHistory]:
    """Invoice `number`'s trail, oldest first."""
    query = (
        select_rows(InvoiceHistory)
        .where(col(InvoiceHistory.invoice_number) == number)
        .order_by(col(InvoiceHistory.id))
    )
    return list((await session.exec(query)).all())
