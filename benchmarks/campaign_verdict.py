"""The fault campaign's verdict: what the writers were told, against what the services hold.

Pure rules over plain data, so each count can be checked on its own (tests/benchmarks).

- **lost**: a write the writers were acknowledged that ordering does not show: an order whose
  confirm was acknowledged (200, or 409 "already confirmed" on a retry) that is not in ordering's
  change feed, or whose delete was acknowledged (200, or 409 "already deleted") but whose feed
  entry is not deleted.
- **duplicate**: an order in the feed more than once, two feed entries with one position, or an
  order with more than one invoice.
- **missing**: an order in the feed (published) without an invoice in billing.
- **mismatched**: an invoice that disagrees with its order's final version (amount, currency,
  customer, deleted flag, void although not deleted or not void although deleted and never
  approved), an invoice for an order that is not in the feed, or a feed entry deleted although
  no writer deleted it.
- **unexpected_5xx**: answers with a 5xx status other than 503 (503 with `Retry-After` is the
  documented answer while a dependency is down or restarting).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CONFIRMED, DELETED = "confirmed", "deleted"


@dataclass(frozen=True)
class Verdict:
    lost: int
    duplicate: int
    missing: int
    mismatched: int
    unexpected_5xx: int

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicate or self.missing or self.mismatched) and not (
            self.unexpected_5xx
        )

    def line(self) -> str:
        return (
            f"lost={self.lost} duplicate={self.duplicate} missing={self.missing} "
            f"mismatched={self.mismatched} unexpected_5xx={self.unexpected_5xx}"
        )


def judge(
    acknowledged: Mapping[int, str],
    feed: Sequence[Mapping[str, Any]],
    invoices: Sequence[Mapping[str, Any]],
    unexpected_5xx: int,
) -> Verdict:
    """`acknowledged`: order number -> the last state a writer was acknowledged ("confirmed"
    or "deleted"); `feed`: every entry of ordering's change feed from position 0; `invoices`:
    every invoice billing lists."""
    numbers = Counter(order["number"] for order in feed)
    positions = Counter(order["change_seq"] for order in feed)
    invoice_counts = Counter(invoice["order_number"] for invoice in invoices)
    published = {order["number"]: order for order in feed}

    lost = 0
    for number, state in acknowledged.items():
        order = published.get(number)
        if order is None or (state == DELETED and order["status"] != DELETED):
            lost += 1

    duplicate = (
        sum(count - 1 for count in numbers.values())
        + sum(count - 1 for count in positions.values())
        + sum(count - 1 for count in invoice_counts.values())
    )
    missing = sum(1 for number in published if number not in invoice_counts)

    mismatched = sum(
        1
        for number, order in published.items()
        if order["status"] == DELETED and acknowledged.get(number) != DELETED
    )
    for invoice in invoices:
        order = published.get(invoice["order_number"])
        if order is None or not _invoice_matches(invoice, order):
            mismatched += 1
    return Verdict(lost, duplicate, missing, mismatched, unexpected_5xx)


def _invoice_matches(invoice: Mapping[str, Any], order: Mapping[str, Any]) -> bool:
    deleted = order["status"] == DELETED
    if invoice["order_deleted"] != deleted:
        return False
    if deleted and invoice["approved_at"] is None and invoice["status"] != "void":
        return False
    if not deleted and invoice["status"] == "void":
        return False
    return (
        invoice["amount"] == order["total"]
        and invoice["currency"] == order["currency"]
        and invoice["customer"] == order["customer"]
    )
