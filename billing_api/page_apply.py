"""Apply a whole feed page at once: a few multi-row statements instead of a few per order.

The decisions are the life cycle's pure functions (`lifecycle.decide`, `new_invoice`,
`invoice_changes`), run over the page; this module only reads what they need in bulk and writes
what they decided in bulk, inside the caller's transaction (the one that moves the token):

1. two reads: the page's stored orders and their invoices (locked on PostgreSQL);
2. first-time orders: one `INSERT ... ON CONFLICT DO NOTHING`; orders already stored with an
   older version: one upsert guarded by `row_version` (`... DO UPDATE ... WHERE stored <
   incoming`), so nothing can regress whatever happened between the read and the write;
3. the invoices that are due: one `INSERT ... ON CONFLICT (order_number) DO NOTHING`;
4. the invoices that follow their order (mirror while pending, void, flag): one UPDATE per kind;
5. same-version orders that now bring their feed position: one UPDATE.

Every statement is an executemany (multi-row VALUES where it returns rows). An order a
concurrent applier (the deep link, another replica on PostgreSQL) stored between the read and the
write falls back to the per-order `apply_order`, which locks and decides again: outcomes and
counts are exactly those of applying the page one order at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from billing_api.invoice_history import record_for_orders
from billing_api.invoices import _order_values, apply_order
from billing_api.lifecycle import (
    ApplyOutcome,
    Decision,
    InvoiceAction,
    OrderVersion,
    OrderWrite,
    decide,
    invoice_changes,
    new_invoice,
)
from billing_api.models import Invoice, InvoiceEvent, LocalOrder, OrderWire

_ORDERS: Table = LocalOrder.__table__  # type: ignore[attr-defined]
_INVOICES: Table = Invoice.__table__  # type: ignore[attr-defined]
_CREATES = (InvoiceAction.CREATE_PENDING, InvoiceAction.CREATE_VOID)
_FOLLOWS = (InvoiceAction.MIRROR, InvoiceAction.VOID, InvoiceAction.FLAG)


@dataclass
class PageApplied:
    """What applying a page did: counts by outcome name plus `invoices_created` (as the sync
    state row totals them), and the orders the feed should never have carried."""

    counts: Counter[str] = field(default_factory=Counter)
    ignored: list[int] = field(default_factory=list)


def _insert(connection: AsyncConnection) -> Any:
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


async def apply_page(
    session: AsyncSession, orders: Sequence[OrderWire], now: datetime
) -> PageApplied:
    """Apply `orders` (one feed page) in the caller's transaction."""
    applied = PageApplied()
    wanted = []
    for order in orders:
        if decide(OrderVersion.of(order), None, None).outcome is ApplyOutcome.IGNORED:
            applied.ignored.append(order.number)
        else:
            wanted.append(order)
    if len({order.number for order in wanted}) != len(wanted):
        # Ordering's feed carries each order once (at its latest position); should a page ever
        # repeat one, applying it in sequence is the definition of the right answer.
        await _one_by_one(session, wanted, now, applied)
        return applied
    if not wanted:
        return applied

    connection = await session.connection()
    numbers = [order.number for order in wanted]
    stored, invoices = await _read_state(connection, numbers)
    decided = [
        (
            order,
            decide(OrderVersion.of(order), stored.get(order.number), invoices.get(order.number)),
        )
        for order in wanted
    ]
    written = await _write_orders(connection, decided, now)
    # Decided ALL but not written: a concurrent applier stored it first (PostgreSQL only).
    lost = [
        order
        for order, decision in decided
        if decision.order is OrderWrite.ALL and order.number not in written
    ]
    settled = [(o, d) for o, d in decided if d.order is not OrderWrite.ALL or o.number in written]

    await _write_positions(connection, [o for o, d in settled if d.order is OrderWrite.POSITION])
    created = await _create_invoices(
        connection, [(o, d) for o, d in settled if d.invoice in _CREATES], now
    )
    await _follow_orders(connection, [(o, d) for o, d in settled if d.invoice in _FOLLOWS], now)
    for _, decision in settled:
        applied.counts[decision.outcome.value] += 1
    applied.counts["invoices_created"] += created
    await _one_by_one(session, lost, now, applied)
    return applied


async def _one_by_one(
    session: AsyncSession, orders: Sequence[OrderWire], now: datetime, applied: PageApplied
) -> None:
    for order in orders:
        result = await apply_order(session, order, now)
        if result.outcome is ApplyOutcome.IGNORED:
            applied.ignored.append(order.number)
            continue
        applied.counts[result.outcome.value] += 1
        applied.counts["invoices_created"] += int(result.invoice_created)


async def _read_state(
    connection: AsyncConnection, numbers: list[int]
) -> tuple[dict[int, OrderVersion], dict[int, Any]]:
    """The stored versions and invoice statuses of these orders, locked until commit."""
    rows = await connection.execute(
        select(
            _ORDERS.c.number,
            _ORDERS.c.status,
            _ORDERS.c.row_version,
            _ORDERS.c.change_seq,
            _ORDERS.c.created_at,
        )
        .where(_ORDERS.c.number.in_(numbers))
        .with_for_update()
    )
    stored = {
        row.number: OrderVersion(
            row.status, row.row_version, row.change_seq, created_at=row.created_at
        )
        for row in rows
    }
    if not stored:  # a first sync: nothing stored means no invoices either (foreign key)
        return stored, {}
    rows = await connection.execute(
        select(_INVOICES.c.order_number, _INVOICES.c.status)
        .where(_INVOICES.c.order_number.in_(list(stored)))
        .with_for_update()
    )
    return stored, {row.order_number: row.status for row in rows}


async def _write_orders(
    connection: AsyncConnection, decided: list[tuple[OrderWire, Decision]], now: datetime
) -> set[int]:
    """Store the orders decided `ALL`; the numbers actually written."""
    insert = _insert(connection)
    first = [
        _order_values(o, now)
        for o, d in decided
        if d.order is OrderWrite.ALL and d.outcome is ApplyOutcome.NEW
    ]
    newer = [
        _order_values(o, now)
        for o, d in decided
        if d.order is OrderWrite.ALL and d.outcome is not ApplyOutcome.NEW
    ]
    written: set[int] = set()
    if first:
        statement = insert(_ORDERS).on_conflict_do_nothing(index_elements=["number"])
        result = await connection.execute(statement.returning(_ORDERS.c.number), first)
        written.update(result.scalars())
    if newer:
        statement = insert(_ORDERS)
        statement = statement.on_conflict_do_update(
            index_elements=["number"],
            set_={name: statement.excluded[name] for name in newer[0] if name != "number"},
            # Newer, or another order under a number handed out again (lifecycle.decide).
            where=or_(
                _ORDERS.c.row_version < statement.excluded.row_version,
                _ORDERS.c.created_at != statement.excluded.created_at,
            ),
        )
        result = await connection.execute(statement.returning(_ORDERS.c.number), newer)
        written.update(result.scalars())
    return written


async def _write_positions(connection: AsyncConnection, orders: list[OrderWire]) -> None:
    """Same version, now with its feed position (the deep link stored it while pending)."""
    if not orders:
        return
    statement = (
        _ORDERS.update()
        .where(
            _ORDERS.c.number == bindparam("_number"),
            _ORDERS.c.row_version == bindparam("_version"),
        )
        .values(change_seq=bindparam("_seq"))
    )
    await connection.execute(
        statement,
        [{"_number": o.number, "_version": o.row_version, "_seq": o.change_seq} for o in orders],
    )


async def _create_invoices(
    connection: AsyncConnection, due: list[tuple[OrderWire, Decision]], now: datetime
) -> int:
    if not due:
        return 0
    statement = _insert(connection)(_INVOICES).on_conflict_do_nothing(
        index_elements=["order_number"]
    )
    rows = [new_invoice(decision.invoice, order, now) for order, decision in due]
    result = await connection.execute(statement.returning(_INVOICES.c.order_number), rows)
    created = set(result.scalars())
    made = [(order, decision) for order, decision in due if order.number in created]
    await record_for_orders(
        connection, InvoiceEvent.CREATED, [(o.number, o.row_version) for o, _ in made], now
    )
    await record_for_orders(
        connection,
        InvoiceEvent.VOIDED,
        [(o.number, o.row_version) for o, d in made if d.invoice is InvoiceAction.CREATE_VOID],
        now,
    )
    return len(created)


async def _follow_orders(
    connection: AsyncConnection, follows: list[tuple[OrderWire, Decision]], now: datetime
) -> None:
    """Invoices follow their order: one executemany UPDATE per kind of change."""
    by_action: dict[InvoiceAction, list[dict[str, Any]]] = {}
    for order, decision in follows:
        values = invoice_changes(decision.invoice, order, now)
        # Parameter names must differ from the column names they set.
        row = {f"_{name}": value for name, value in values.items()}
        by_action.setdefault(decision.invoice, []).append({"_number": order.number, **row})
    for rows in by_action.values():
        names = [key[1:] for key in rows[0] if key != "_number"]
        statement = (
            _INVOICES.update()
            .where(_INVOICES.c.order_number == bindparam("_number"))
            .values({name: bindparam(f"_{name}") for name in names})
        )
        await connection.execute(statement, rows)
    voided = [(o.number, o.row_version) for o, d in follows if d.invoice is InvoiceAction.VOID]
    await record_for_orders(connection, InvoiceEvent.VOIDED, voided, now)
