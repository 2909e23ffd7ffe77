"""GraphQL types of the audit trail: who did what to an order or an invoice, and when.

The owner services keep the trail (`GET /orders/{n}/history`, `GET /invoices/{n}/history`);
`Order.history` and `Invoice.history` (bff/types.py) resolve through the functions here.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from bff.context import Info
from bff.records import InvoiceHistoryRecord, OrderHistoryRecord


@strawberry.enum(description="What happened to an order.")
class OrderEvent(Enum):
    CREATED = strawberry.enum_value("created", description="The order was created (a draft).")
    EDITED = strawberry.enum_value("edited", description="The draft's content was replaced.")
    CONFIRMED = strawberry.enum_value(
        "confirmed", description="The order was confirmed and sent to billing."
    )
    DELETED = strawberry.enum_value("deleted", description="The order was deleted.")


@strawberry.enum(description="What happened to an invoice.")
class InvoiceEvent(Enum):
    CREATED = strawberry.enum_value(
        "created", description="Billing made the invoice for its newly confirmed order."
    )
    APPROVED = strawberry.enum_value("approved", description="The invoice was approved.")
    VOIDED = strawberry.enum_value(
        "voided", description="The invoice was voided: its order was deleted before approval."
    )


@strawberry.type(description="One change of an order, as ordering recorded it.")
class OrderHistoryEntry:
    action: OrderEvent = strawberry.field(description="What happened.")
    actor: str = strawberry.field(
        description="Who: the signed-in user, or `service:<name>` for a service acting alone."
    )
    at: datetime = strawberry.field(description="When (ISO 8601 date and time in UTC).")
    row_version: int = strawberry.field(description="The order's version after the change.")


@strawberry.type(description="One change of an invoice, as billing recorded it.")
class InvoiceHistoryEntry:
    action: InvoiceEvent = strawberry.field(description="What happened.")
    actor: str = strawberry.field(
        description="Who: the signed-in user, or `billing sync` for what the sync did."
    )
    at: datetime = strawberry.field(description="When (ISO 8601 date and time in UTC).")
    order_version: int = strawberry.field(
        description="The version of the order the invoice stood on at that moment."
    )


async def order_history(info: Info, number: int) -> list[OrderHistoryEntry]:
    page: OrderHistoryRecord = await info.context.ordering.order_history(number)
    return [
        OrderHistoryEntry(
            action=OrderEvent(e.action), actor=e.actor, at=e.at, row_version=e.row_version
        )
        for e in page.entries
    ]


async def invoice_history(info: Info, number: int) -> list[InvoiceHistoryEntry]:
    page: InvoiceHistoryRecord = await info.context.billing.invoice_history(number)
    return [
        InvoiceHistoryEntry(
            action=InvoiceEvent(e.action), actor=e.actor, at=e.at, order_version=e.order_version
        )
        for e in page.entries
    ]
