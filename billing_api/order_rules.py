"""Billing's own rules for an order it is asked to invoice, as a pure function.

Ordering checks its input, but billing makes money out of what the feed says, so it checks the
arithmetic it would otherwise silently trust: each line's amount is its unit price times its
quantity, and the total is the sum of the lines. A record that breaks a rule is set aside as a
dead letter (billing_api.dead_letters) instead of becoming an invoice with a wrong amount.
"""

from __future__ import annotations

from billing_api.models import OrderWire
from service_http.money import minor_units_to_wire


def _cents(amount: str) -> int:
    # Wire amounts are canonical ("-?digits.dd", service_http.money.wire_amount): no Decimal
    # is needed, and this runs for every line of every feed page.
    return int(amount.replace(".", ""))


def rule_broken(order: OrderWire) -> str | None:
    """Why billing cannot invoice `order` as it stands, in words; None when it can."""
    if not order.lines:
        return f"order {order.number} has no lines: there is nothing to invoice"
    lines_total = 0
    for index, line in enumerate(order.lines, start=1):
        amount = _cents(line.amount)
        if line.quantity < 1:
            return f"order {order.number} line {index} has quantity {line.quantity}"
        if amount != _cents(line.unit_price) * line.quantity:
            return (
                f"order {order.number} line {index}: amount {line.amount} is not "
                f"{line.quantity} x {line.unit_price}"
            )
        lines_total += amount
    if _cents(order.total) != lines_total:
        return (
            f"order {order.number}: total {order.total} is not the sum of its lines "
            f"({minor_units_to_wire(lines_total)})"
        )
    return None
