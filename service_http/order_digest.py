"""One order's digest and a range's checksum, computed the same way by ordering (from its rows)
and billing (from its copy), so that reconciliation can compare them without moving the orders.

The digest covers what billing copies and invoices: number, status, version, total, currency,
customer, and when the order was created (a number handed out again after a restore is another
order even with the same version). A range's checksum is the sum of its digests modulo 2**64:
independent of row order, so each side streams its rows as its database returns them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
MASK = 2**64 - 1


def _micros(moment: datetime) -> int:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return (aware - _EPOCH) // _MICROSECOND


def order_digest(
    number: int,
    status: str,
    row_version: int,
    total: str,
    currency: str,
    customer_name: str,
    customer_email: str,
    created_at: datetime,
) -> int:
    """A 64-bit digest of what billing copies of one order (`total` in its wire form)."""
    text = "\x1f".join(
        (
            str(number),
            status,
            str(row_version),
            total,
            currency,
            customer_name,
            customer_email,
            str(_micros(created_at)),
        )
    )
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def range_of(number: int, size: int, start: int = 1) -> int:
    """The first number of the range of `size` numbers holding `number`, ranges counted from
    `start` (start, start+size, ...)."""
    return start + (number - start) // size * size


def hex64(value: int) -> str:
    return f"{value & MASK:016x}"


class RangeChecksum(BaseModel):
    first: int = Field(description="First order number of the range")
    last: int = Field(description="Last order number of the range")
    count: int = Field(description="Published orders in the range")
    checksum: str = Field(description="Sum of the orders' digests modulo 2**64, 16 hex digits")


class ChecksumPage(BaseModel):
    """Per-range count and checksum of the published orders, for reconciliation."""

    ranges: list[RangeChecksum] = Field(description="Ranges holding at least one order")
    next_start: int | None = Field(description="Pass as `start` for more; null when done")


class OrderDigest(BaseModel):
    number: int
    status: str
    row_version: int
    digest: str = Field(description="16 hex digits (service_http.order_digest)")


class DigestList(BaseModel):
    orders: list[OrderDigest]
