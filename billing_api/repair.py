"""The repairing re-sync: bring billing's copy to ordering's current state for every order the
feed carries, whatever the versions say.

A normal pull applies an order only when its `row_version` is newer than the stored one. After
ordering's database was restored from a backup that guard is wrong: ordering's current state
may carry *lower* versions (changes made after the backup are gone) or the same version with
other content (an order number handed out again). While re-syncing, each page is first applied
as usual (new orders, newer versions), then every order whose stored copy still differs from
what ordering says now is overwritten, and its invoice follows as the life cycle says (a
pending invoice mirrors the order or becomes void with a deleted order; an approved one is
flagged). No invoice is ever created twice: an existing one is only updated. What cannot be
put right by billing alone (an approved invoice whose order now differs, a void invoice whose
order stands again) is listed for a person.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from billing_api.invoices import _order_values
from billing_api.lifecycle import InvoiceAction, invoice_changes, invoice_follows
from billing_api.models import Invoice, InvoiceStatus, LocalOrder, OrderStatus, OrderWire, as_utc

_ORDERS: Table = LocalOrder.__table__  # type: ignore[attr-defined]
_INVOICES: Table = Invoice.__table__  # type: ignore[attr-defined]
# What is compared: everything ordering says about an order except its feed position.
_COMPARED = (
    "status",
    "customer_name",
    "customer_email",
    "currency",
    "lines",
    "total",
    "row_version",
    "created_at",
    "updated_at",
    "confirmed_at",
    "deleted_at",
)
MAX_LISTED = 100


@dataclass
class RepairReport:
    """What a repairing re-sync did (kept in the sync state row, shown in the sync status)."""

    from_position: int
    started_at: str
    finished_at: str | None = None
    pages: int = 0
    orders_seen: int = 0
    new: int = 0
    changed: int = 0  # newer versions, applied as a normal pull would
    overwritten: int = 0  # stored copies put back to ordering's state against the version guard
    invoices_created: int = 0
    invoices_adjusted: int = 0
    overwritten_orders: list[int] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, position: int, now: datetime) -> RepairReport:
        return cls(from_position=position, started_at=now.isoformat())

    @classmethod
    def of(cls, stored: dict[str, Any] | None, position: int, now: datetime) -> RepairReport:
        if not stored:
            return cls.start(position, now)
        return cls(**{k: v for k, v in stored.items() if k in cls.__dataclass_fields__})

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def note(self, text: str) -> None:
        if len(self.attention) < MAX_LISTED:
            self.attention.append(text)


def _comparable(values: dict[str, Any]) -> tuple[Any, ...]:
    out = []
    for name in _COMPARED:
        value = values[name]
        if isinstance(value, datetime):
            value = as_utc(value)
        elif hasattr(value, "value"):  # a StrEnum read back from the database
            value = str(value.value)
        out.append(value)
    return tuple(out)


async def overwrite_differing(
    connection: AsyncConnection, orders: list[OrderWire], now: datetime, report: RepairReport
) -> None:
    """After the page was applied as usual: put back every stored copy that still differs from
    what ordering says, and let its invoice follow. In the caller's transaction."""
    if not orders:
        return
    numbers = [order.number for order in orders]
    rows = await connection.execute(
        select(*(_ORDERS.c[name] for name in ("number", *_COMPARED)))
        .where(_ORDERS.c.number.in_(numbers))
        .with_for_update()
    )
    stored = {row.number: _comparable(row._asdict()) for row in rows}
    differing = []
    for order in orders:
        values = _order_values(order, now)
        if order.number in stored and stored[order.number] != _comparable(values):
            differing.append((order, values))
    if not differing:
        return
    invoices = {
        row.order_number: row
        for row in await connection.execute(
            select(
                _INVOICES.c.order_number, _INVOICES.c.number, _INVOICES.c.status, _INVOICES.c.amount
            )
            .where(_INVOICES.c.order_number.in_([order.number for order, _ in differing]))
            .with_for_update()
        )
    }
    statement = (
        _ORDERS.update()
        .where(_ORDERS.c.number == bindparam("_number"))
        .values({name: bindparam(f"_{name}") for name in (*_COMPARED, "change_seq", "stored_at")})
    )
    await connection.execute(
        statement,
        [
            {
                "_number": order.number,
                **{f"_{name}": values[name] for name in (*_COMPARED, "change_seq", "stored_at")},
            }
            for order, values in differing
        ],
    )
    for order, _ in differing:
        report.overwritten += 1
        if len(report.overwritten_orders) < MAX_LISTED:
            report.overwritten_orders.append(order.number)
        invoice = invoices.get(order.number)
        if invoice is None:
            continue  # made by the usual apply, or left to reconciliation to list
        await _follow(connection, order, invoice, now, report)


async def _follow(
    connection: AsyncConnection, order: OrderWire, invoice: Any, now: datetime, report: RepairReport
) -> None:
    status = InvoiceStatus(invoice.status)
    action = invoice_follows(order.status, status)
    if status is InvoiceStatus.APPROVED and invoice.amount != order.total:
        report.note(
            f"invoice {invoice.number} was approved for {invoice.amount} but order "
            f"{order.number} now totals {order.total} in ordering"
        )
    if status is InvoiceStatus.VOID and order.status is OrderStatus.CONFIRMED:
        report.note(
            f"invoice {invoice.number} is void but order {order.number} stands confirmed in "
            "ordering: a void invoice is never revived; bill it by hand if it is owed"
        )
    changes = invoice_changes(action, order, now)
    if action is InvoiceAction.NONE or not changes:
        return
    await connection.execute(
        _INVOICES.update().where(_INVOICES.c.order_number == order.number).values(**changes)
    )
    report.invoices_adjusted += 1
