"""A feed page applied set-wise ends exactly where applying it one order at a time ends.

Same rows, same invoices (numbers included), same counts, for every case of the life cycle in
one page, on SQLite and on PostgreSQL; and on PostgreSQL an order a concurrent applier stores
while the page is being written is still decided against what it stored.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from billing_api.db import create_engine, create_schema, new_session
from billing_api.invoices import ApplyOutcome, _order_values, apply_order, approve_invoice
from billing_api.models import Invoice, InvoiceHistory, LocalOrder, OrderWire
from billing_api.page_apply import apply_page
from tests.billing_api.test_invoices import NOW, wire

BACKENDS = [
    pytest.param("sqlite_url", id="sqlite"),
    pytest.param("pg_url", id="postgres", marks=pytest.mark.postgres),
]


async def _engine(url: str) -> AsyncEngine:
    engine = create_engine(url)
    await create_schema(engine)
    return engine


@pytest.fixture(params=BACKENDS)
async def two_engines(
    request: pytest.FixtureRequest, tmp_path: Any
) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two empty billing databases of one kind."""
    if request.param == "sqlite_url":
        urls = [f"sqlite+aiosqlite:///{tmp_path / name}.db" for name in ("a", "b")]
    else:
        make = request.getfixturevalue("make_pg_url")
        urls = [make(), make()]
    engines = [await _engine(url) for url in urls]
    yield engines[0], engines[1]
    for engine in engines:
        await engine.dispose()


async def _one(engine: AsyncEngine, order: OrderWire) -> ApplyOutcome:
    async with new_session(engine) as session, session.begin():
        return (await apply_order(session, order, NOW)).outcome


async def _stored_state(engine: AsyncEngine) -> None:
    """Orders billing already holds, in every state a page can meet them in."""
    for order in [
        wire(1, 1),  # a newer version comes: its pending invoice mirrors it
        wire(2, 1),  # deleted next: its pending invoice becomes void
        wire(3, 1),  # approved, then deleted: flagged, stays approved
        wire(4, 2),  # an older version comes: stale
        wire(5, 1),  # the same version comes with its feed position (stored while pending)
        wire(6, 3, "deleted"),  # deleted already, deleted again at a newer version
        wire(8, 1),  # approved, then changed: the invoice no longer follows
    ]:
        await _one(engine, order)
    invoices: Any = Invoice.__table__  # type: ignore[attr-defined]
    async with engine.connect() as connection:
        numbers = await connection.execute(
            select(invoices.c.order_number, invoices.c.number).where(
                invoices.c.order_number.in_([3, 8])
            )
        )
        to_approve = [row.number for row in numbers]
    async with new_session(engine) as session, session.begin():
        for number in to_approve:
            await approve_invoice(session, number, NOW, who="test")
    orders: Any = LocalOrder.__table__  # type: ignore[attr-defined]
    async with engine.begin() as connection:
        # Order 7 without its invoice, as an old version wrote it: the next version makes it.
        await connection.execute(orders.insert().values(**_order_values(wire(7, 1), NOW)))


PAGE = [
    wire(1, 2, change_seq=11, total="9.99"),
    wire(2, 2, "deleted", change_seq=12),
    wire(3, 2, "deleted", change_seq=13),
    wire(4, 1, change_seq=14),
    wire(5, 1, change_seq=15),
    wire(6, 4, "deleted", change_seq=16),
    wire(7, 2, change_seq=17),
    wire(8, 2, change_seq=18, customer={"name": "Bea", "email": "bea@example.com"}),
    wire(10, 1, change_seq=19),  # new
    wire(11, 2, "deleted", change_seq=20),  # new, already deleted: its invoice is born void
    wire(12, 1, "draft", change_seq=21),  # never confirmed: ignored
    wire(13, 2, "deleted", change_seq=22, confirmed_at=None),  # deleted as a draft: ignored
]


async def _rows(engine: AsyncEngine) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    async with engine.connect() as connection:
        orders = await connection.execute(
            select(LocalOrder.__table__).order_by(text("number"))  # type: ignore[attr-defined]
        )
        invoices = await connection.execute(
            select(Invoice.__table__).order_by(text("number"))  # type: ignore[attr-defined]
        )
        return [dict(r) for r in orders.mappings()], [dict(r) for r in invoices.mappings()]


async def _history(engine: AsyncEngine) -> list[tuple[int, str, str, int]]:
    """The audit trail as (order number, action, actor, order version), sorted."""
    history: Any = InvoiceHistory.__table__  # type: ignore[attr-defined]
    invoices: Any = Invoice.__table__  # type: ignore[attr-defined]
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(
                invoices.c.order_number, history.c.action, history.c.actor, history.c.order_version
            ).join(invoices, invoices.c.number == history.c.invoice_number)
        )
        return sorted((r[0], r[1], r[2], r[3]) for r in rows)


async def test_a_page_set_wise_equals_the_page_one_order_at_a_time(
    two_engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    set_wise, one_by_one = two_engines
    for engine in two_engines:
        await _stored_state(engine)

    async with new_session(set_wise) as session, session.begin():
        applied = await apply_page(session, PAGE, NOW)
    expected: Counter[str] = Counter()
    ignored = []
    for order in PAGE:
        async with new_session(one_by_one) as session, session.begin():
            result = await apply_order(session, order, NOW)
        if result.outcome is ApplyOutcome.IGNORED:
            ignored.append(order.number)
            continue
        expected[result.outcome.value] += 1
        expected["invoices_created"] += int(result.invoice_created)

    assert applied.ignored == ignored == [12, 13]
    assert +applied.counts == +expected
    assert expected == {"new": 2, "changed": 4, "removed": 2, "stale": 2, "invoices_created": 3}
    assert await _rows(set_wise) == await _rows(one_by_one)
    trail = await _history(set_wise)
    assert trail == await _history(one_by_one), "both paths write the same audit trail"
    assert {(order, action) for order, action, _, _ in trail if order in (2, 7, 10, 11)} == {
        (2, "created"), (2, "voided"), (7, "created"), (10, "created"),
        (11, "created"), (11, "voided"),
    }  # fmt: skip
    assert {who for _, action, who, _ in trail if action != "approved"} == {"billing sync"}
    assert (11, "voided", "billing sync", 2) in trail, "the order's version is recorded"
    orders, invoices = await _rows(set_wise)
    by_order = {invoice["order_number"]: invoice for invoice in invoices}
    assert by_order[1]["amount"] == "9.99"  # mirrored
    assert by_order[2]["status"] == "void" and by_order[2]["order_deleted"]
    assert by_order[3]["status"] == "approved" and by_order[3]["order_deleted"]
    assert by_order[8]["customer_name"] == "Ada"  # approved: no longer follows
    assert by_order[11]["status"] == "void"
    assert {o["number"]: o["change_seq"] for o in orders}[5] == 15


async def test_a_page_applied_twice_is_all_stale_the_second_time(
    two_engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    engine, _ = two_engines
    page = [wire(n, 1, change_seq=n) for n in range(1, 51)]
    async with new_session(engine) as session, session.begin():
        first = await apply_page(session, page, NOW)
    before = await _rows(engine)
    async with new_session(engine) as session, session.begin():
        again = await apply_page(session, page, NOW)
    assert +first.counts == {"new": 50, "invoices_created": 50}
    assert +again.counts == {"stale": 50}
    assert await _rows(engine) == before


@pytest.mark.postgres
async def test_an_order_stored_concurrently_is_decided_against_what_was_stored(
    pg_url: str,
) -> None:
    """The page reads order 1 as absent; before its insert runs, another applier (a deep link)
    stores version 1 and its invoice. The page's insert then waits for that transaction and
    finds the row: the order is applied as a newer version of it, not as a new order."""
    engine = await _engine(pg_url)
    try:
        other = new_session(engine)
        await other.begin()
        await apply_order(other, wire(1, 1), NOW)  # uncommitted: invisible to the page's read

        async def page() -> Any:
            async with new_session(engine) as session, session.begin():
                return await apply_page(session, [wire(1, 2, change_seq=1, total="3.00")], NOW)

        applying = asyncio.create_task(page())
        async with engine.connect() as watcher:
            while True:  # until the page's INSERT waits for the other transaction's row lock
                waiting = await watcher.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND query LIKE 'INSERT INTO local_orders%'"
                    )
                )
                await watcher.rollback()
                if waiting or applying.done():
                    break
        await other.commit()
        await other.close()
        applied = await applying

        assert +applied.counts == {"changed": 1}
        _, invoices = await _rows(engine)
        assert [(i["order_number"], i["amount"]) for i in invoices] == [(1, "3.00")]
        async with engine.connect() as connection:
            version = await connection.scalar(
                select(LocalOrder.__table__.c.row_version)  # type: ignore[attr-defined]
            )
        assert version == 2
    finally:
        await engine.dispose()
