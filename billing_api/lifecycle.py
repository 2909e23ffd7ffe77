"""The invoice life cycle, as pure functions: given the order's state and the invoice's, what
happens. No session, no clock, no I/O: `invoices.py` reads the stored state, asks here, and
writes what was decided, in the caller's transaction.

Each decision needs only small values (an order's version and status, an invoice's status), so a
whole feed page can be decided at once from two bulk reads, and written back in bulk.

The rules (docs/design.md §4):
- billing copies only published orders (ever confirmed); a draft is none of its business;
- an order is applied only when its `row_version` is newer than the stored one, so replays and
  races never regress data -- or when it was created at another time than the stored one: that
  is another order under a number ordering handed out again (its database was restored); the
  same version may still bring its feed position (the deep link stores an order before the
  assigner numbered it);
- the first time billing stores an order, its one invoice is created: `pending_approval`, or
  born `void` when the order is already deleted (it was confirmed once);
- while the invoice awaits approval it mirrors the order (amount, currency, customer);
- when the order is deleted, a pending invoice becomes void; an approved one stays approved
  and is flagged `order_deleted` for a person to look at;
- only a pending invoice can be approved; approving an approved one again changes nothing; a
  void one cannot be approved, and neither can one whose order is deleted (409, saying so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from billing_api.models import InvoiceStatus, OrderStatus, OrderWire, as_utc
from service_db.paging import search_text


class InvoiceIsVoid(Exception):
    def __init__(self, number: int) -> None:
        super().__init__(f"Invoice {number} is void and cannot be approved.")
        self.number = number


class InvoiceOrderDeleted(InvoiceIsVoid):
    """The invoice's order was deleted in ordering: it can never be approved (409)."""

    def __init__(self, number: int, order_number: int) -> None:
        Exception.__init__(
            self,
            f"Invoice {number} cannot be approved: its order {order_number} was deleted in "
            "ordering, so the invoice is void.",
        )
        self.number = number
        self.order_number = order_number


class ApplyOutcome(StrEnum):
    """What applying one incoming order did; the values name the pull's counters."""

    NEW = "new"  # first stored
    CHANGED = "changed"  # a newer version that is not a delete
    REMOVED = "removed"  # a newer version that turns the order deleted
    STALE = "stale"  # not newer than the stored version: ignored
    IGNORED = "ignored"  # never confirmed, so not published: billing has no business with it


class OrderWrite(StrEnum):
    NONE = "none"
    POSITION = "position"  # the same version, now with its feed position: store the position
    ALL = "all"  # store the incoming order as it is


class InvoiceAction(StrEnum):
    NONE = "none"
    CREATE_PENDING = "create_pending"
    CREATE_VOID = "create_void"  # first seen already deleted: it was confirmed once
    MIRROR = "mirror"  # pending: follow the order's amount, currency and customer
    VOID = "void"  # pending and the order deleted: void, flagged
    FLAG = "flag"  # approved (or void) and the order deleted: only flagged


@dataclass(frozen=True)
class OrderVersion:
    """What the rules need to know of an order, incoming or stored."""

    status: OrderStatus
    row_version: int
    change_seq: int | None
    was_confirmed: bool = True
    # When the order was made: another value under the same number is another order (ordering
    # handed the number out again after its database was restored from a backup).
    created_at: datetime | None = None

    @classmethod
    def of(cls, order: OrderWire) -> OrderVersion:
        return cls(
            order.status, order.row_version, order.change_seq, order.was_confirmed, order.created_at
        )

    def reissued(self, stored: OrderVersion) -> bool:
        """Whether this is another order than `stored` under the same number."""
        return (
            self.created_at is not None
            and stored.created_at is not None
            and as_utc(self.created_at) != as_utc(stored.created_at)
        )


@dataclass(frozen=True)
class Decision:
    outcome: ApplyOutcome
    order: OrderWrite = OrderWrite.NONE
    invoice: InvoiceAction = InvoiceAction.NONE


def decide(
    incoming: OrderVersion, stored: OrderVersion | None, invoice: InvoiceStatus | None
) -> Decision:
    """What applying `incoming` does, given the stored copy and its invoice (None: none yet)."""
    if not incoming.was_confirmed:
        return Decision(ApplyOutcome.IGNORED)
    if stored is None:
        return Decision(ApplyOutcome.NEW, OrderWrite.ALL, invoice_follows(incoming.status, invoice))
    if incoming.row_version <= stored.row_version and not incoming.reissued(stored):
        brings_position = (
            incoming.row_version == stored.row_version
            and incoming.change_seq is not None
            and (stored.change_seq is None or incoming.change_seq > stored.change_seq)
        )
        return Decision(
            ApplyOutcome.STALE, OrderWrite.POSITION if brings_position else OrderWrite.NONE
        )
    removed = incoming.status is OrderStatus.DELETED and stored.status is not OrderStatus.DELETED
    return Decision(
        ApplyOutcome.REMOVED if removed else ApplyOutcome.CHANGED,
        OrderWrite.ALL,
        invoice_follows(incoming.status, invoice),
    )


def invoice_follows(order: OrderStatus, invoice: InvoiceStatus | None) -> InvoiceAction:
    """What an order in status `order` does to its invoice (None: it has none yet)."""
    deleted = order is OrderStatus.DELETED
    if invoice is None:
        return InvoiceAction.CREATE_VOID if deleted else InvoiceAction.CREATE_PENDING
    if invoice is InvoiceStatus.PENDING_APPROVAL:
        return InvoiceAction.VOID if deleted else InvoiceAction.MIRROR
    return InvoiceAction.FLAG if deleted else InvoiceAction.NONE


def new_invoice(action: InvoiceAction, order: OrderWire, now: datetime) -> dict[str, Any]:
    """The column values of the invoice `action` (a CREATE_*) makes for `order`."""
    void = action is InvoiceAction.CREATE_VOID
    return {
        "order_number": order.number,
        "amount": order.total,
        "amount_minor": order.total_minor,
        "currency": order.currency,
        "status": InvoiceStatus.VOID if void else InvoiceStatus.PENDING_APPROVAL,
        "order_deleted": void,
        "customer_name": order.customer.name,
        "customer_email": order.customer.email,
        "search_text": search_text(order.customer.name, order.customer.email),
        "created_at": now,
        "voided_at": now if void else None,
    }


def invoice_changes(action: InvoiceAction, order: OrderWire, now: datetime) -> dict[str, Any]:
    """The column values `action` (MIRROR, VOID, FLAG or NONE) changes on the invoice."""
    if action is InvoiceAction.MIRROR:
        return {
            "amount": order.total,
            "amount_minor": order.total_minor,
            "currency": order.currency,
            "customer_name": order.customer.name,
            "customer_email": order.customer.email,
            "search_text": search_text(order.customer.name, order.customer.email),
        }
    if action is InvoiceAction.VOID:
        return {"status": InvoiceStatus.VOID, "order_deleted": True, "voided_at": now}
    if action is InvoiceAction.FLAG:
        return {"order_deleted": True}
    return {}


def approval(
    number: int,
    status: InvoiceStatus,
    *,
    order_number: int | None = None,
    order_deleted: bool = False,
) -> InvoiceStatus:
    """The status approving invoice `number` leaves it in.

    A void invoice cannot be approved, nor can one whose order is deleted (the apply voids a
    pending invoice with its order, so this is the same case said plainly). An approved invoice
    stays approved, even when its order was deleted afterwards (it is flagged instead).
    """
    if status is InvoiceStatus.APPROVED:
        return InvoiceStatus.APPROVED
    if order_deleted and order_number is not None:
        raise InvoiceOrderDeleted(number, order_number)
    if status is InvoiceStatus.VOID:
        raise InvoiceIsVoid(number)
    return InvoiceStatus.APPROVED
