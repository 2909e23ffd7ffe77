"""Reconciliation: compare billing's copy with ordering and list what differs.

First per range of order numbers (count and checksum, service_http.order_digest; ordering
answers from its own rows, `GET /orders/checksums`), then row by row only where a range differs
(`GET /orders/digests`), so two copies that agree cost one pass over each side and a few
requests. Lists: orders missing from billing's copy, orders billing has that ordering does not
publish, orders that differ, confirmed orders without an invoice, and approved invoices whose
order is deleted (in billing's copy or in ordering).

Run it as `python -m billing_api.reconcile` (exit status 1 when something differs), or ask for
it with `GET /sync/reconciliation` or the BFF's `reconciliationReport` operator query. It only
reads: repairing is the re-sync's work (`POST /sync/resync`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, and_, exists, or_, select

from billing_api.db import Sessions, create_engine, create_sessions, read_only
from billing_api.models import (
    Invoice,
    InvoiceOfDeletedOrder,
    InvoiceStatus,
    LocalOrder,
    OrderDifference,
    OrderStatus,
    ReconciliationReport,
)
from billing_api.ordering_client import OrderingClient
from billing_api.settings import BillingSettings
from service_db.engine import cursor_connection
from service_db.types import utcnow
from service_db.yielding import yielding
from service_http.order_digest import MASK, OrderDigest, hex64, order_digest, range_of

RANGE_SIZE = 1000
RANGES_PER_REQUEST = 1000
MAX_LISTED = 1000

_ORDERS: Table = LocalOrder.__table__  # type: ignore[attr-defined]
_INVOICES: Table = Invoice.__table__  # type: ignore[attr-defined]


@dataclass
class _Local:
    """Billing's copy, digested: per order (digest, status, version) and per range totals."""

    orders: dict[int, tuple[int, str, int]] = field(default_factory=dict)
    ranges: dict[int, tuple[int, int]] = field(default_factory=dict)


async def _local(sessions: Sessions, size: int) -> _Local:
    local = _Local()
    totals: dict[int, list[int]] = {}
    async with sessions() as session:
        connection = await cursor_connection(session)
        result = await connection.stream(
            select(
                _ORDERS.c.number,
                _ORDERS.c.status,
                _ORDERS.c.row_version,
                _ORDERS.c.total,
                _ORDERS.c.currency,
                _ORDERS.c.customer_name,
                _ORDERS.c.customer_email,
                _ORDERS.c.created_at,
            ).execution_options(yield_per=1000)
        )
        async for row in yielding(result):
            status = OrderStatus(row.status).value
            digest = order_digest(
                row.number,
                status,
                row.row_version,
                row.total,
                row.currency,
                row.customer_name,
                row.customer_email,
                row.created_at,
            )
            local.orders[row.number] = (digest, status, row.row_version)
            entry = totals.setdefault(range_of(row.number, size), [0, 0])
            entry[0] += 1
            entry[1] = (entry[1] + digest) & MASK
    local.ranges = {first: (count, total) for first, (count, total) in totals.items()}
    return local


async def _remote_ranges(client: OrderingClient, size: int) -> dict[int, tuple[int, str]]:
    ranges: dict[int, tuple[int, str]] = {}
    start: int | None = 1
    while start is not None:
        page = await client.fetch_checksums(start, size, RANGES_PER_REQUEST)
        for entry in page.ranges:
            ranges[entry.first] = (entry.count, entry.checksum)
        start = page.next_start
    return ranges


def _range_differs(local: _Local, remote: dict[int, tuple[int, str]], first: int) -> bool:
    mine = local.ranges.get(first)
    return (None if mine is None else (mine[0], hex64(mine[1]))) != remote.get(first)


def _difference(
    number: int, remote: OrderDigest | None, local: tuple[int, str, int] | None
) -> OrderDifference:
    return OrderDifference(
        number=number,
        ordering_status=remote.status if remote else None,
        ordering_version=remote.row_version if remote else None,
        billing_status=local[1] if local else None,
        billing_version=local[2] if local else None,
    )


async def _invoice_findings(
    sessions: Sessions, uninvoiced_in_ordering: list[int], deleted_in_ordering: list[int]
) -> tuple[list[int], list[InvoiceOfDeletedOrder]]:
    async with sessions() as session:
        connection = await session.connection()
        has_invoice = exists().where(_INVOICES.c.order_number == _ORDERS.c.number)
        uninvoiced = (
            await connection.execute(
                select(_ORDERS.c.number)
                .where(_ORDERS.c.status == OrderStatus.CONFIRMED.value, ~has_invoice)
                .order_by(_ORDERS.c.number)
                .limit(MAX_LISTED)
            )
        ).scalars()
        found = sorted({*uninvoiced, *uninvoiced_in_ordering})
        deleted_here = await connection.execute(
            select(_INVOICES.c.number, _INVOICES.c.order_number)
            .select_from(_INVOICES.join(_ORDERS, _ORDERS.c.number == _INVOICES.c.order_number))
            .where(
                _INVOICES.c.status == InvoiceStatus.APPROVED.value,
                or_(
                    _INVOICES.c.order_deleted.is_(True),
                    _ORDERS.c.status == OrderStatus.DELETED.value,
                ),
            )
            .order_by(_INVOICES.c.number)
            .limit(MAX_LISTED)
        )
        approved = [
            InvoiceOfDeletedOrder(invoice_number=n, order_number=o, deleted_in="billing")
            for n, o in deleted_here
        ]
        seen = {a.order_number for a in approved}
        if deleted_in_ordering:
            there = await connection.execute(
                select(_INVOICES.c.number, _INVOICES.c.order_number).where(
                    and_(
                        _INVOICES.c.status == InvoiceStatus.APPROVED.value,
                        _INVOICES.c.order_number.in_(deleted_in_ordering),
                    )
                )
            )
            approved += [
                InvoiceOfDeletedOrder(invoice_number=n, order_number=o, deleted_in="ordering")
                for n, o in there
                if o not in seen
            ]
    return found[:MAX_LISTED], approved[:MAX_LISTED]


async def reconcile(
    sessions: Sessions, client: OrderingClient, size: int = RANGE_SIZE
) -> ReconciliationReport:
    """Compare billing's copy (read through `sessions`) with ordering; nothing is changed."""
    started = time.perf_counter()
    checked_at = utcnow()
    local, remote_ranges = await asyncio.gather(
        _local(sessions, size), _remote_ranges(client, size)
    )
    firsts = sorted({*local.ranges, *remote_ranges})
    differing = [first for first in firsts if _range_differs(local, remote_ranges, first)]
    numbers = sorted(local.orders)
    missing: list[OrderDifference] = []
    extra: list[OrderDifference] = []
    different: list[OrderDifference] = []
    uninvoiced_there: list[int] = []
    deleted_there: list[int] = []
    for first in differing:
        remote = {d.number: d for d in (await client.fetch_digests(first, size)).orders}
        within = numbers[bisect_left(numbers, first) : bisect_left(numbers, first + size)]
        mine = {n: local.orders[n] for n in within}
        for number in sorted({*remote, *mine}):
            theirs, ours = remote.get(number), mine.get(number)
            if ours is None:
                missing.append(_difference(number, theirs, None))
                if theirs is not None and theirs.status == OrderStatus.CONFIRMED.value:
                    uninvoiced_there.append(number)
            elif theirs is None:
                extra.append(_difference(number, None, ours))
            elif hex64(ours[0]) != theirs.digest:
                different.append(_difference(number, theirs, ours))
                if theirs.status == OrderStatus.DELETED.value:
                    deleted_there.append(number)
    uninvoiced, approved = await _invoice_findings(sessions, uninvoiced_there, deleted_there)
    truncated = any(len(found) > MAX_LISTED for found in (missing, extra, different))
    return ReconciliationReport(
        checked_at=checked_at,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
        range_size=size,
        ranges_compared=len(firsts),
        ranges_differing=len(differing),
        ordering_orders=sum(count for count, _ in remote_ranges.values()),
        billing_orders=len(local.orders),
        missing=missing[:MAX_LISTED],
        extra=extra[:MAX_LISTED],
        different=different[:MAX_LISTED],
        confirmed_without_invoice=uninvoiced,
        approved_invoices_of_deleted_orders=approved,
        truncated=truncated,
        in_sync=not (missing or extra or different or uninvoiced),
    )


def summary(report: ReconciliationReport) -> str:
    """The report for a person at a terminal."""
    lines = [
        f"reconciliation at {report.checked_at.isoformat()} in {report.duration_ms:.0f} ms: "
        f"ordering publishes {report.ordering_orders} orders, billing's copy holds "
        f"{report.billing_orders}; {report.ranges_differing} of {report.ranges_compared} "
        f"ranges of {report.range_size} numbers differ",
    ]
    sections: list[tuple[str, list[Any]]] = [
        ("missing from billing's copy", report.missing),
        ("in billing's copy but not published by ordering", report.extra),
        ("different", report.different),
        ("confirmed without an invoice", report.confirmed_without_invoice),
        ("approved invoices of deleted orders", report.approved_invoices_of_deleted_orders),
    ]
    for title, found in sections:
        if found:
            lines.append(f"{title} ({len(found)}):")
            lines += [
                f"  {item.model_dump_json() if hasattr(item, 'model_dump_json') else item}"
                for item in found
            ]
    lines.append("in sync" if report.in_sync else "NOT in sync")
    return "\n".join(lines)


async def _main(as_json: bool, size: int) -> int:
    settings = BillingSettings()
    engine = create_engine(settings.database_url)
    client = OrderingClient(
        settings.ordering_url, settings.outgoing_token("ordering_token"), settings.ordering_timeout
    )
    try:
        report = await reconcile(create_sessions(read_only(engine)), client, size)
    finally:
        await client.aclose()
        await engine.dispose()
    print(report.model_dump_json(indent=2) if as_json else summary(report))
    return 0 if report.in_sync else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m billing_api.reconcile",
        description="Compare billing's copy of the orders with ordering (reads only). "
        "Settings come from the environment (BILLING_DATABASE_URL, BILLING_ORDERING_URL, "
        "BILLING_ORDERING_TOKEN). Exit status: 0 in sync, 1 differences found, "
        "2 could not compare.",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--range-size", type=int, default=RANGE_SIZE, help="order numbers per range (1-100000)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.range_size <= 100_000:
        parser.error("--range-size must be between 1 and 100000")
    try:
        return asyncio.run(_main(args.json, args.range_size))
    except Exception as exc:  # a person reads this: one line, not a traceback
        print(f"reconciliation failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
