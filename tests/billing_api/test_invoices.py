"""billing's rules on a real SQLite file: version-guarded apply and the invoice life cycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from billing_api.db import create_engine, create_schema, new_session
from billing_api.invoices import (
    ApplyOutcome,
    InvalidCursor,
    InvoiceIsVoid,
    InvoiceNotFound,
    apply_order,
    approve_invoice,
    decode_cursor,
    encode_cursor,
)
from billing_api.models import Invoice, InvoiceStatus, OrderWire
from tests.billing_api.checks import invoices_by_order, local_orders

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def wire(number: int, version: int, status: str = "confirmed", **changes: Any) -> OrderWire:
    order: dict[str, Any] = {
        "number": number,
        "status": status,
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "currency": "EUR",
        "lines": [
            {"sku": "A", "description": "", "quantity": version, "unit_price": "1.50",
             "amount": f"{1.5 * version:.2f}"}
        ],
        "total": f"{1.5 * version:.2f}",
        "row_version": version,
        "change_seq": None,
        "created_at": "2026-11-21T10:00:00+00:00",
        "updated_at": "2026-11-21T10:00:00+00:00",
        "confirmed_at": "2026-11-21T10:00:00+00:00" if status != "draft" else None,
        "deleted_at": "2026-11-21T11:00:00+00:00" if status == "deleted" else None,
    }  # fmt: skip
    order.update(changes)
    return OrderWire.model_validate(order)


@pytest.fixture
async def engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url)
    await create_schema(engine)
    yield engine
    await engine.dispose()


async def apply(engine: AsyncEngine, order: OrderWire) -> ApplyOutcome:
    async with new_session(engine) as session, session.begin():
        return (await apply_order(session, order, NOW)).outcome


async def test_new_changed_stale_and_no_regression(engine: AsyncEngine) -> None:
    assert await apply(engine, wire(1, version=2)) is ApplyOutcome.NEW
    assert await apply(engine, wire(1, version=2)) is ApplyOutcome.STALE, "a replay"
    assert await apply(engine, wire(1, version=1)) is ApplyOutcome.STALE, "an older version"
    assert (await local_orders(engine))[1].row_version == 2
    assert await apply(engine, wire(1, version=3)) is ApplyOutcome.CHANGED
    local = (await local_orders(engine))[1]
    assert (local.row_version, local.total, local.lines[0]["quantity"]) == (3, "4.50", 3)
    invoices = await invoices_by_order(engine)
    assert len(invoices[1]) == 1
    assert invoices[1][0].amount == "4.50", "a pending invoice mirrors its order"


async def test_delete_voids_a_pending_invoice_and_flags_an_approved_one(
    engine: AsyncEngine,
) -> None:
    await apply(engine, wire(1, version=1))
    await apply(engine, wire(2, version=1))
    async with new_session(engine) as session, session.begin():
        approved = await approve_invoice(
            session, (await invoices_by_order(engine))[2][0].number or 0, NOW, who="test"
        )
    assert approved.status == "approved"
    assert await apply(engine, wire(1, version=2, status="deleted")) is ApplyOutcome.REMOVED
    assert await apply(engine, wire(2, version=2, status="deleted")) is ApplyOutcome.REMOVED
    assert await apply(engine, wire(2, version=2, status="deleted")) is ApplyOutcome.STALE
    invoices = await invoices_by_order(engine)
    assert (invoices[1][0].status, invoices[1][0].order_deleted) == ("void", True)
    assert invoices[1][0].voided_at is not None
    assert (invoices[2][0].status, invoices[2][0].order_deleted) == ("approved", True)
    assert invoices[2][0].amount == "1.50", "an approved invoice does not change"
    assert (await local_orders(engine))[1].status == "deleted", "soft deletes are kept"


async def test_an_order_first_seen_deleted_gets_its_one_invoice_void(engine: AsyncEngine) -> None:
    assert await apply(engine, wire(7, version=3, status="deleted")) is ApplyOutcome.NEW
    invoice = (await invoices_by_order(engine))[7][0]
    assert (invoice.status, invoice.order_deleted) == ("void", True)


async def test_orders_never_confirmed_are_not_billed(engine: AsyncEngine) -> None:
    assert await apply(engine, wire(1, version=1, status="draft")) is ApplyOutcome.IGNORED
    never = wire(2, version=2, status="deleted", confirmed_at=None)
    assert await apply(engine, never) is ApplyOutcome.IGNORED
    assert await local_orders(engine) == {}
    assert await invoices_by_order(engine) == {}


async def test_the_database_enforces_one_invoice_per_order(engine: AsyncEngine) -> None:
    await apply(engine, wire(1, version=1))
    with pytest.raises(IntegrityError):
        async with new_session(engine) as session, session.begin():
            session.add(
                Invoice(
                    order_number=1, amount="1.00", currency="EUR",
                    status=InvoiceStatus.PENDING_APPROVAL,
                    customer_name="x", customer_email="x@example.com", created_at=NOW,
                )
            )  # fmt: skip


async def test_invoice_numbers_are_billings_own_sequence(engine: AsyncEngine) -> None:
    for number in (40, 12, 33):
        await apply(engine, wire(number, version=1))
    invoices = await invoices_by_order(engine)
    assert [invoices[n][0].number for n in (40, 12, 33)] == [1, 2, 3]


async def test_approve_rules(engine: AsyncEngine) -> None:
    await apply(engine, wire(1, version=1, status="deleted"))
    async with new_session(engine) as session, session.begin():
        with pytest.raises(InvoiceIsVoid):
            await approve_invoice(session, 1, NOW, who="test")
        with pytest.raises(InvoiceNotFound):
            await approve_invoice(session, 2, NOW, who="test")


def test_cursors_round_trip_and_reject_strangers() -> None:
    assert decode_cursor(encode_cursor(42)) == 42
    for bad in (
        "",
        "!!!",
        encode_cursor(1)[:-1] + "*",
        "b3JkZXI6MQ",
        "aW52OjEyMzQ1Njc4OTAxMjM0NTY3ODkw",
    ):
        with pytest.raises(InvalidCursor):
            decode_cursor(bad)
