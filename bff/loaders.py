"""Per-request DataLoaders over the upstreams' batch endpoints (no N+1).

Made fresh for every GraphQL request (never module-level), so one request's results are never
served to another; cross-request reuse is the cache's job, with its TTL and invalidation.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from bff.clients import BillingClient, OrderingClient
from bff.records import InvoiceRecord, OrderRecord, SyncStatusRecord


@dataclass(frozen=True)
class Loaders:
    order: DataLoader[int, OrderRecord | None]
    invoice_by_order: DataLoader[int, InvoiceRecord | None]
    invoice: DataLoader[int, InvoiceRecord | None]
    # One key: every `syncStatus` of a request (aliases included) shares one upstream read.
    sync_status: DataLoader[None, SyncStatusRecord]

    def remember_order(self, order: OrderRecord) -> None:
        """Serve this (fresh) order to later fields of the same request."""
        self.order.prime(order.number, order, force=True)

    def forget_invoice_of(self, order_number: int) -> None:
        # Confirming or deleting an order changes its invoice; look it up afresh.
        with suppress(KeyError):  # strawberry's clear() raises for a key never loaded
            self.invoice_by_order.clear(order_number)

    def remember_invoices(self, invoices: Sequence[InvoiceRecord], force: bool = False) -> None:
        self.invoice_by_order.prime_many({i.order_number: i for i in invoices}, force=force)
        self.invoice.prime_many({i.number: i for i in invoices}, force=force)


def make_loaders(ordering: OrderingClient, billing: BillingClient) -> Loaders:
    async def load_orders(numbers: list[int]) -> Sequence[OrderRecord | None]:
        found = await ordering.orders_by_number(numbers)
        return [found.get(n) for n in numbers]

    async def load_invoices_by_order(order_numbers: list[int]) -> Sequence[InvoiceRecord | None]:
        found = await billing.invoices_by_order_number(order_numbers)
        return [found.get(n) for n in order_numbers]

    async def load_invoices(numbers: list[int]) -> Sequence[InvoiceRecord | None]:
        found = await billing.invoices_by_number(numbers)
        return [found.get(n) for n in numbers]

    async def load_sync_status(keys: list[None]) -> Sequence[SyncStatusRecord]:
        status = await billing.sync_status()
        return [status for _ in keys]

    return Loaders(
        order=DataLoader(load_fn=load_orders),
        invoice_by_order=DataLoader(load_fn=load_invoices_by_order),
        invoice=DataLoader(load_fn=load_invoices),
        sync_status=DataLoader(load_fn=load_sync_status),
    )
