"""Assertions shared by billing's tests: the copy equals ordering, one invoice per order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import func, select

from billing_api.db import new_session
from billing_api.models import Invoice, InvoiceStatus, LocalOrder, SyncState


async def local_orders(engine: AsyncEngine) -> dict[int, LocalOrder]:
    async with new_session(engine) as session:
        return {o.number: o for o in (await session.exec(select(LocalOrder))).all()}


async def invoices_by_order(engine: AsyncEngine) -> dict[int, list[Invoice]]:
    async with new_session(engine) as session:
        rows = (await session.exec(select(Invoice))).all()
    by_order: dict[int, list[Invoice]] = {}
    for invoice in rows:
        by_order.setdefault(invoice.order_number, []).append(invoice)
    return by_order


async def sync_state(engine: AsyncEngine) -> SyncState:
    async with new_session(engine) as session:
        return (await session.exec(select(SyncState))).one()


async def invoice_count(engine: AsyncEngine) -> int:
    async with new_session(engine) as session:
        return (await session.exec(select(func.count()).select_from(Invoice))).one()


async def assert_consistent(engine: AsyncEngine, published: dict[int, dict[str, Any]]) -> None:
    """The copy equals ordering's published state; every published order has exactly one
    invoice, void exactly when the order is deleted and the invoice was never approved."""
    copy = await local_orders(engine)
    assert set(copy) == set(published), "local copy and ordering's published orders differ"
    for number, order in published.items():
        local = copy[number]
        assert local.row_version == order["row_version"], f"order {number} version differs"
        assert local.status == order["status"]
        assert local.total == order["total"]
        assert local.lines == order["lines"]
        assert local.change_seq == order["change_seq"]
    invoices = await invoices_by_order(engine)
    assert set(invoices) == set(published), "an order without invoice, or one for no order"
    for number, found in invoices.items():
        assert len(found) == 1, f"order {number} has {len(found)} invoices"
        invoice = found[0]
        deleted = published[number]["status"] == "deleted"
        assert invoice.order_deleted is deleted
        if deleted and invoice.approved_at is None:
            assert invoice.status == InvoiceStatus.VOID
        if not deleted:
            assert invoice.status != InvoiceStatus.VOID
            assert invoice.amount == published[number]["total"]
    state = await sync_state(engine)
    assert state.token >= max((o["change_seq"] for o in published.values()), default=0)


async def eventually(condition: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Poll `condition` until it holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.02)
