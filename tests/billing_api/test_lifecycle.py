"""The invoice life cycle's pure rules (lifecycle.py): every combination of the incoming order,
the stored copy and the invoice, without a database."""

from __future__ import annotations

import pytest

from billing_api.lifecycle import (
    ApplyOutcome,
    Decision,
    InvoiceAction,
    InvoiceIsVoid,
    OrderVersion,
    OrderWrite,
    approval,
    decide,
    invoice_follows,
)
from billing_api.models import InvoiceStatus, OrderStatus

CONFIRMED, DELETED = OrderStatus.CONFIRMED, OrderStatus.DELETED
PENDING, APPROVED, VOID = InvoiceStatus.PENDING_APPROVAL, InvoiceStatus.APPROVED, InvoiceStatus.VOID


def version(status: OrderStatus, row_version: int, change_seq: int | None = None) -> OrderVersion:
    return OrderVersion(status, row_version, change_seq)


@pytest.mark.parametrize(
    ("incoming", "stored", "invoice", "expected"),
    [
        # First seen: stored, with its one invoice (born void when already deleted).
        (version(CONFIRMED, 2), None, None,
         Decision(ApplyOutcome.NEW, OrderWrite.ALL, InvoiceAction.CREATE_PENDING)),
        (version(DELETED, 3), None, None,
         Decision(ApplyOutcome.NEW, OrderWrite.ALL, InvoiceAction.CREATE_VOID)),
        # Replays and older versions change nothing ...
        (version(CONFIRMED, 2, 7), version(CONFIRMED, 2, 7), PENDING,
         Decision(ApplyOutcome.STALE)),
        (version(CONFIRMED, 1, 9), version(CONFIRMED, 2, 7), PENDING,
         Decision(ApplyOutcome.STALE)),
        # ... but the same version may bring the feed position the deep link could not know.
        (version(CONFIRMED, 2, 7), version(CONFIRMED, 2, None), PENDING,
         Decision(ApplyOutcome.STALE, OrderWrite.POSITION)),
        (version(CONFIRMED, 2, 8), version(CONFIRMED, 2, 7), PENDING,
         Decision(ApplyOutcome.STALE, OrderWrite.POSITION)),
        (version(CONFIRMED, 2, 6), version(CONFIRMED, 2, 7), PENDING,
         Decision(ApplyOutcome.STALE)),
        # A newer version: a pending invoice mirrors it, an approved one is left alone.
        (version(CONFIRMED, 3), version(CONFIRMED, 2), PENDING,
         Decision(ApplyOutcome.CHANGED, OrderWrite.ALL, InvoiceAction.MIRROR)),
        (version(CONFIRMED, 3), version(CONFIRMED, 2), APPROVED,
         Decision(ApplyOutcome.CHANGED, OrderWrite.ALL, InvoiceAction.NONE)),
        # Deleted: pending becomes void, approved stays approved and is flagged.
        (version(DELETED, 3), version(CONFIRMED, 2), PENDING,
         Decision(ApplyOutcome.REMOVED, OrderWrite.ALL, InvoiceAction.VOID)),
        (version(DELETED, 3), version(CONFIRMED, 2), APPROVED,
         Decision(ApplyOutcome.REMOVED, OrderWrite.ALL, InvoiceAction.FLAG)),
        # A newer version of an order already deleted is a change, not a second removal.
        (version(DELETED, 4), version(DELETED, 3), VOID,
         Decision(ApplyOutcome.CHANGED, OrderWrite.ALL, InvoiceAction.FLAG)),
        # A stored order without its invoice (written by hand or an old version) gets one.
        (version(CONFIRMED, 3), version(CONFIRMED, 2), None,
         Decision(ApplyOutcome.CHANGED, OrderWrite.ALL, InvoiceAction.CREATE_PENDING)),
    ],
)  # fmt: skip
def test_decide(
    incoming: OrderVersion,
    stored: OrderVersion | None,
    invoice: InvoiceStatus | None,
    expected: Decision,
) -> None:
    assert decide(incoming, stored, invoice) == expected


@pytest.mark.parametrize("stored", [None, version(CONFIRMED, 1)])
def test_a_never_confirmed_order_is_none_of_billings_business(stored: OrderVersion | None) -> None:
    draft = OrderVersion(OrderStatus.DRAFT, 5, None, was_confirmed=False)
    assert decide(draft, stored, PENDING if stored else None) == Decision(ApplyOutcome.IGNORED)


def test_what_an_order_does_to_its_invoice() -> None:
    assert invoice_follows(CONFIRMED, None) is InvoiceAction.CREATE_PENDING
    assert invoice_follows(DELETED, None) is InvoiceAction.CREATE_VOID
    assert invoice_follows(CONFIRMED, PENDING) is InvoiceAction.MIRROR
    assert invoice_follows(DELETED, PENDING) is InvoiceAction.VOID
    assert invoice_follows(CONFIRMED, APPROVED) is InvoiceAction.NONE
    assert invoice_follows(DELETED, APPROVED) is InvoiceAction.FLAG
    assert invoice_follows(CONFIRMED, VOID) is InvoiceAction.NONE


def test_approval() -> None:
    assert approval(1, PENDING) is APPROVED
    assert approval(1, APPROVED) is APPROVED
    with pytest.raises(InvoiceIsVoid, match=r"^Invoice 7 is void and cannot be approved\.$"):
        approval(7, VOID)
