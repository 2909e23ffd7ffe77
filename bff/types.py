"""The GraphQL types of docs/contracts.md, shaped from upstream records.

Resolvers here only compose: related records come through the request's DataLoaders.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from bff.context import Info
from bff.pagination import Cursor, Page
from bff.planned_execution import NOT_PLAIN, planned_value
from bff.records import (
    CustomerRecord,
    InvoiceRecord,
    OrderLineRecord,
    OrderRecord,
    SyncStatusRecord,
)


@strawberry.enum
class OrderStatus(Enum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    DELETED = "deleted"


@strawberry.enum
class InvoiceStatus(Enum):
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    VOID = "void"


class NotLoaded:
    """Marks a related record that was not fetched up front (None means "there is none")."""


NOT_LOADED = NotLoaded()


@strawberry.type
class Customer:
    name: str
    email: str

    @classmethod
    def from_record(cls, record: CustomerRecord) -> Customer:
        return cls(name=record.name, email=record.email)


@strawberry.type
class OrderLine:
    sku: str
    description: str
    quantity: int
    unit_price: str
    amount: str


@strawberry.type
class Order:
    number: int
    status: OrderStatus
    customer: Customer
    currency: str
    total: str
    row_version: int
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    deleted_at: datetime | None
    # Set by a list resolver that loaded the invoices of its whole page in one batch.
    prefetched_invoice: strawberry.Private[InvoiceRecord | NotLoaded | None] = NOT_LOADED
    # Lines are built only when asked for (a list screen never asks; py-spy put building
    # records field by field at 3 % of a page).
    line_records: strawberry.Private[Sequence[OrderLineRecord]] = ()

    @strawberry.field
    def lines(self) -> list[OrderLine]:
        return [
            OrderLine(
                sku=line.sku,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
            )
            for line in self.line_records
        ]

    @strawberry.field(description="The order's invoice; null until billing has created it.")
    @planned_value(lambda order: order.prefetched())
    def invoice(self, info: Info) -> Invoice | None:
        # Deliberately not `async`: with the page's invoices prefetched, 50 orders cost 50 plain
        # calls instead of 50 coroutines, tasks and DataLoader futures (py-spy: asyncio task
        # creation alone was 12 % of a cache-off page); the planner (bff/planned_execution.py)
        # does not even call it then. Otherwise it hands graphql-core an awaitable, which it
        # awaits like an async resolver's.
        invoice = self.prefetched()
        if invoice is not NOT_PLAIN:
            return invoice
        return self._load_invoice(info)  # type: ignore[return-value]

    def prefetched(self) -> Invoice | None:
        """The invoice fetched with the page, or NOT_PLAIN when it was not."""
        if isinstance(self.prefetched_invoice, NotLoaded):
            return NOT_PLAIN
        record = self.prefetched_invoice
        return Invoice.from_record(record) if record is not None else None

    async def _load_invoice(self, info: Info) -> Invoice | None:
        record = await info.context.loaders.invoice_by_order.load(self.number)
        return Invoice.from_record(record) if record is not None else None

    @classmethod
    def from_record(cls, record: OrderRecord) -> Order:
        return cls(
            number=record.number,
            status=OrderStatus(record.status),
            customer=Customer.from_record(record.customer),
            currency=record.currency,
            line_records=record.lines,
            total=record.total,
            row_version=record.row_version,
            created_at=record.created_at,
            updated_at=record.updated_at,
            confirmed_at=record.confirmed_at,
            deleted_at=record.deleted_at,
        )


@strawberry.type
class Invoice:
    number: int
    order_number: int
    amount: str
    currency: str
    status: InvoiceStatus
    order_deleted: bool
    customer: Customer
    created_at: datetime
    approved_at: datetime | None
    voided_at: datetime | None

    @strawberry.field(description="The order this invoice bills, as ordering has it now.")
    async def order(self, info: Info) -> Order | None:
        record = await info.context.loaders.order.load(self.order_number)
        return Order.from_record(record) if record is not None else None

    @classmethod
    def from_record(cls, record: InvoiceRecord) -> Invoice:
        return cls(
            number=record.number,
            order_number=record.order_number,
            amount=record.amount,
            currency=record.currency,
            status=InvoiceStatus(record.status),
            order_deleted=record.order_deleted,
            customer=Customer.from_record(record.customer),
            created_at=record.created_at,
            approved_at=record.approved_at,
            voided_at=record.voided_at,
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class OrderEdge:
    position: strawberry.Private[Cursor]
    node: Order

    @strawberry.field
    def cursor(self) -> str:
        return self.position.encode()


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[OrderRecord]) -> OrderConnection:
        return cls(
            edges=[OrderEdge(position=c, node=Order.from_record(o)) for c, o in page.edges],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )


@strawberry.type
class InvoiceEdge:
    position: strawberry.Private[Cursor]
    node: Invoice

    @strawberry.field
    def cursor(self) -> str:
        return self.position.encode()


@strawberry.type
class InvoiceConnection:
    edges: list[InvoiceEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[InvoiceRecord]) -> InvoiceConnection:
        return cls(
            edges=[InvoiceEdge(position=c, node=Invoice.from_record(i)) for c, i in page.edges],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )


@strawberry.type
class SyncTotals:
    pulls: int
    pages: int
    new: int
    changed: int
    removed: int
    stale: int
    invoices_created: int


@strawberry.type
class SyncStatus:
    feed_id: str | None
    token: int
    high_water: int
    lag_records: int
    lag_seconds: float
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    healthy: bool
    running: bool
    totals: SyncTotals

    @classmethod
    def from_record(cls, record: SyncStatusRecord) -> SyncStatus:
        return cls(
            **record.model_dump(exclude={"totals"}),
            totals=SyncTotals(**record.totals.model_dump()),
        )


@strawberry.type
class ConfirmOrderPayload:
    order: Order
    invoice_link: str = strawberry.field(
        description="Opening this in the browser lands on the order's invoice in billing."
    )


@strawberry.input
class CustomerInput:
    name: str
    email: str


@strawberry.input
class OrderLineInput:
    sku: str
    description: str = ""
    quantity: int
    unit_price: str


@strawberry.input
class OrderInput:
    customer: CustomerInput
    currency: str = "EUR"
    lines: list[OrderLineInput]

    def to_wire(self) -> dict[str, Any]:
        """The ordering service's order input (validation is ordering's job, not ours)."""
        return {
            "customer": {"name": self.customer.name, "email": self.customer.email},
            "currency": self.currency,
            "lines": [
                {
                    "sku": line.sku,
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                }
                for line in self.lines
            ],
        }
