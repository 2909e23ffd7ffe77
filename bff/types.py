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
from bff.descriptions import DATE_TIME
from bff.operator_types import RepairReport, SyncHealth
from bff.pagination import Page
from bff.planned_execution import NOT_PLAIN, planned_value
from bff.records import (
    CustomerRecord,
    InvoiceRecord,
    OrderLineRecord,
    OrderRecord,
    StatusCounts,
    SyncStatusRecord,
)
from bff.types_audit import InvoiceHistoryEntry, OrderHistoryEntry, invoice_history, order_history
from service_http.currencies import ISO_4217, currency_digits, currency_name

AMOUNT = (
    "A decimal string with exactly the currency's ISO 4217 digits (`currencyDigits`): "
    '"12.50" in EUR, "13" in JPY, "1.250" in KWD. Never a float: format it with the '
    "currency's own digits."
)


@strawberry.enum(description="Where an order is in its life cycle.")
class OrderStatus(Enum):
    DRAFT = strawberry.enum_value(
        "draft", description="Being written: can be edited, confirmed or deleted; not billed."
    )
    CONFIRMED = strawberry.enum_value(
        "confirmed",
        description="Final: sent to billing, which creates its invoice. Can still be deleted.",
    )
    DELETED = strawberry.enum_value(
        "deleted",
        description="Deleted (kept for the record). A confirmed order's invoice is voided.",
    )


@strawberry.enum(description="Where an invoice is in its life cycle.")
class InvoiceStatus(Enum):
    PENDING_APPROVAL = strawberry.enum_value(
        "pending_approval",
        description="Awaiting approval; mirrors its order's amount and customer until approved.",
    )
    APPROVED = strawberry.enum_value(
        "approved", description="Approved: final, it no longer changes with its order."
    )
    VOID = strawberry.enum_value(
        "void", description="Cancelled because its order was deleted before approval."
    )


def wire(member: Enum) -> str:
    """An enum member's value as the services spell it ("pending_approval", "EUR")."""
    return str(member.value)


def _currency_value(code: str) -> Any:
    digits = currency_digits(code)
    places = "no decimal places" if digits == 0 else f"{digits} decimal places"
    return strawberry.enum_value(code, description=f"{currency_name(code)}: amounts have {places}.")


# Built from the code list, so it is a value to mypy: fields typed with it carry an ignore.
_CURRENCIES: type[Enum] = Enum(  # type: ignore[misc]
    "Currency", {code: _currency_value(code) for code in sorted(ISO_4217)}
)
Currency = strawberry.enum(
    _CURRENCIES,
    description=(
        "An ISO 4217 currency code. Each value's description names the currency and its "
        "number of decimal places (its minor unit)."
    ),
)

# The audit trail's answer to "who": the signed-in user, or `service:<name>`; null on records
# older than the trail.
_WHO = "Who did it: the signed-in user, or `service:<name>`; null before the audit trail."


@strawberry.enum(description="Which way a list is sorted.")
class SortDirection(Enum):
    ASC = strawberry.enum_value("asc", description="Smallest, oldest or first status first.")
    DESC = strawberry.enum_value("desc", description="Largest, newest or last status first.")


_BY_CREATED = "By date created (numbers are given in creation order)."
_BY_TOTAL = (
    "By currency code, then amount within the currency (amounts in different currencies are "
    "not comparable without an exchange rate)."
)


@strawberry.enum(description="What an order list is sorted by; ties go by order number.")
class OrderSort(Enum):
    CREATED = strawberry.enum_value("created", description=_BY_CREATED)
    TOTAL = strawberry.enum_value("total", description=_BY_TOTAL)
    STATUS = strawberry.enum_value(
        "status", description="By status in life-cycle order: draft, confirmed, deleted."
    )


@strawberry.enum(description="What an invoice list is sorted by; ties go by invoice number.")
class InvoiceSort(Enum):
    CREATED = strawberry.enum_value("created", description=_BY_CREATED)
    TOTAL = strawberry.enum_value("total", description=_BY_TOTAL)
    STATUS = strawberry.enum_value(
        "status",
        description="By status in life-cycle order: pending approval, approved, void.",
    )


class NotLoaded:
    """Marks a related record that was not fetched up front (None means "there is none")."""


NOT_LOADED = NotLoaded()


@strawberry.type(description="Who an order is for.")
class Customer:
    name: str = strawberry.field(description="The customer's name, 1 to 200 characters.")
    email: str = strawberry.field(description="The customer's e-mail address.")

    @classmethod
    def from_record(cls, record: CustomerRecord) -> Customer:
        return cls(name=record.name, email=record.email)


@strawberry.type(description="One line of an order: an article, how many, at what price.")
class OrderLine:
    sku: str = strawberry.field(description="The article's stock-keeping unit, 1 to 64 characters.")
    description: str = strawberry.field(description="What the article is; may be empty.")
    quantity: int = strawberry.field(description="How many, 1 to 100000.")
    unit_price: str = strawberry.field(description=f"The price of one. {AMOUNT}")
    amount: str = strawberry.field(description=f"Quantity times unit price. {AMOUNT}")


@strawberry.type(description="An order, as the ordering service has it.")
class Order:
    number: int = strawberry.field(description="The order number, given in creation order.")
    status: OrderStatus = strawberry.field(description="Where the order is in its life cycle.")
    customer: Customer = strawberry.field(description="Who the order is for.")
    currency: Currency = strawberry.field(description="The currency of every amount of the order.")  # type: ignore[valid-type]
    total: str = strawberry.field(description=f"The sum of the lines' amounts. {AMOUNT}")
    row_version: int = strawberry.field(
        description="Goes up by one with every change: tells a changed order from the one read."
    )
    created_at: datetime = strawberry.field(description=f"When it was created ({DATE_TIME}).")
    updated_at: datetime = strawberry.field(description=f"When it last changed ({DATE_TIME}).")
    confirmed_at: datetime | None = strawberry.field(
        description=f"When it was confirmed ({DATE_TIME}); null while a draft."
    )
    deleted_at: datetime | None = strawberry.field(
        description=f"When it was deleted ({DATE_TIME}); null unless deleted."
    )
    created_by: str | None = strawberry.field(description=_WHO)
    confirmed_by: str | None = strawberry.field(description=_WHO)
    deleted_by: str | None = strawberry.field(description=_WHO)
    # Set by a list resolver that loaded the invoices of its whole page in one batch.
    prefetched_invoice: strawberry.Private[InvoiceRecord | NotLoaded | None] = NOT_LOADED
    # Lines are built only when asked for (a list screen never asks; py-spy put building
    # records field by field at 3 % of a page).
    line_records: strawberry.Private[Sequence[OrderLineRecord]] = ()

    @strawberry.field(description="The currency's decimal places (ISO 4217): 2 EUR, 0 JPY, 3 KWD.")
    def currency_digits(self) -> int:
        return currency_digits(wire(self.currency))

    @strawberry.field(description="The order's lines, in the order they were entered.")
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
        """The invoice known without a call: none for a draft (billing bills confirmed orders
        only), the one fetched with the page; NOT_PLAIN when it was not fetched."""
        if self.status is OrderStatus.DRAFT:
            return None
        if isinstance(self.prefetched_invoice, NotLoaded):
            return NOT_PLAIN
        record = self.prefetched_invoice
        return Invoice.from_record(record) if record is not None else None

    @strawberry.field(description="Who created, edited, confirmed and deleted it, oldest first.")
    async def history(self, info: Info) -> list[OrderHistoryEntry]:
        return await order_history(info, self.number)

    async def _load_invoice(self, info: Info) -> Invoice | None:
        record = await info.context.loaders.invoice_by_order.load(self.number)
        return Invoice.from_record(record) if record is not None else None

    @classmethod
    def from_record(cls, record: OrderRecord) -> Order:
        return cls(
            number=record.number,
            status=OrderStatus(record.status),
            customer=Customer.from_record(record.customer),
            currency=Currency(record.currency),
            line_records=record.lines,
            total=record.total,
            row_version=record.row_version,
            created_at=record.created_at,
            updated_at=record.updated_at,
            confirmed_at=record.confirmed_at,
            deleted_at=record.deleted_at,
            created_by=record.created_by,
            confirmed_by=record.confirmed_by,
            deleted_by=record.deleted_by,
        )


@strawberry.type(description="The invoice billing made for a confirmed order (one per order).")
class Invoice:
    number: int = strawberry.field(description="The invoice number, billing's own.")
    order_number: int = strawberry.field(description="The number of the order it bills.")
    amount: str = strawberry.field(description=f"What is billed: the order's total. {AMOUNT}")
    currency: Currency = strawberry.field(description="The currency of the amount.")  # type: ignore[valid-type]
    status: InvoiceStatus = strawberry.field(description="Where the invoice is in its life cycle.")
    order_deleted: bool = strawberry.field(
        description="The order was deleted: the invoice is void, or (if approved before) flagged."
    )
    customer: Customer = strawberry.field(description="Who is billed.")
    created_at: datetime = strawberry.field(description=f"When billing made it ({DATE_TIME}).")
    approved_at: datetime | None = strawberry.field(
        description=f"When it was approved ({DATE_TIME}); null until then."
    )
    voided_at: datetime | None = strawberry.field(
        description=f"When it was voided ({DATE_TIME}); null unless void."
    )

    approved_by: str | None = strawberry.field(description=_WHO)

    @strawberry.field(description="The currency's decimal places (ISO 4217): 2 EUR, 0 JPY, 3 KWD.")
    def currency_digits(self) -> int:
        return currency_digits(wire(self.currency))

    @strawberry.field(description="Created and voided by the sync, approved by whom; oldest first.")
    async def history(self, info: Info) -> list[InvoiceHistoryEntry]:
        return await invoice_history(info, self.number)

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
            currency=Currency(record.currency),
            status=InvoiceStatus(record.status),
            order_deleted=record.order_deleted,
            customer=Customer.from_record(record.customer),
            created_at=record.created_at,
            approved_at=record.approved_at,
            voided_at=record.voided_at,
            approved_by=record.approved_by,
        )


@strawberry.type(description="Where a page of a list stands (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="More rows follow: ask `first: n, after: endCursor`."
    )
    has_previous_page: bool = strawberry.field(
        description="Rows come before: ask `last: n, before: startCursor`."
    )
    start_cursor: str | None = strawberry.field(
        description="The first edge's cursor; null on an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor; null on an empty page."
    )

    @classmethod
    def of(cls, page: Page[Any]) -> PageInfo:
        return cls(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.start_cursor,
            end_cursor=page.end_cursor,
        )


_CURSOR = "This row's place in the list: use it as `after` or `before`."


@strawberry.type(description="An order in a list, with its place in the list.")
class OrderEdge:
    node: Order = strawberry.field(description="The order.")
    cursor: str = strawberry.field(description=_CURSOR)


@strawberry.type(description="How many orders have a status (a filter chip's count).")
class OrderStatusCount:
    status: OrderStatus = strawberry.field(description="The status.")
    count: int = strawberry.field(description="How many orders with it match the search.")


@strawberry.type(description="How many invoices have a status (a filter chip's count).")
class InvoiceStatusCount:
    status: InvoiceStatus = strawberry.field(description="The status.")
    count: int = strawberry.field(description="How many invoices with it match the search.")


_COUNTS = (
    "One count per status, in life-cycle order, zeros included: the rows that match the same "
    "`search`, whatever the `status` filter (the counts of the filter chips). Costs one more "
    "call to the service, made only when asked for."
)


@strawberry.type(description="A page of orders (Relay connection).")
class OrderConnection:
    edges: list[OrderEdge] = strawberry.field(description="The page's orders, in list order.")
    page_info: PageInfo = strawberry.field(description="Whether pages come before and after.")
    search: strawberry.Private[str | None] = None

    @strawberry.field(description=_COUNTS)
    async def status_counts(self, info: Info) -> list[OrderStatusCount]:
        counts = await info.context.ordering.order_counts(self.search)
        return [OrderStatusCount(status=s, count=_count(counts, s)) for s in OrderStatus]

    @classmethod
    def from_page(cls, page: Page[OrderRecord], search: str | None) -> OrderConnection:
        return cls(
            edges=[OrderEdge(cursor=c, node=Order.from_record(o)) for c, o in page.edges],
            page_info=PageInfo.of(page),
            search=search,
        )


@strawberry.type(description="An invoice in a list, with its place in the list.")
class InvoiceEdge:
    node: Invoice = strawberry.field(description="The invoice.")
    cursor: str = strawberry.field(description=_CURSOR)


@strawberry.type(description="A page of invoices (Relay connection).")
class InvoiceConnection:
    edges: list[InvoiceEdge] = strawberry.field(description="The page's invoices, in list order.")
    page_info: PageInfo = strawberry.field(description="Whether pages come before and after.")
    search: strawberry.Private[str | None] = None

    @strawberry.field(description=_COUNTS)
    async def status_counts(self, info: Info) -> list[InvoiceStatusCount]:
        counts = await info.context.billing.invoice_counts(self.search)
        return [InvoiceStatusCount(status=s, count=_count(counts, s)) for s in InvoiceStatus]

    @classmethod
    def from_page(cls, page: Page[InvoiceRecord], search: str | None) -> InvoiceConnection:
        return cls(
            edges=[InvoiceEdge(cursor=c, node=Invoice.from_record(i)) for c, i in page.edges],
            page_info=PageInfo.of(page),
            search=search,
        )


def _count(counts: StatusCounts, status: OrderStatus | InvoiceStatus) -> int:
    return counts.counts.get(status.value, 0)


@strawberry.type(description="What billing's pulls of the order feed have done since it started.")
class SyncTotals:
    pulls: int = strawberry.field(description="Pulls run.")
    pages: int = strawberry.field(description="Feed pages read.")
    new: int = strawberry.field(description="Orders billing had not seen before.")
    changed: int = strawberry.field(description="Changes to orders it had seen.")
    removed: int = strawberry.field(description="Orders it learnt were deleted.")
    stale: int = strawberry.field(description="Changes skipped as older than its copy.")
    invoices_created: int = strawberry.field(description="Invoices created.")
    dead_lettered: int = strawberry.field(description="Records set aside as dead letters.")


@strawberry.type(description="How far billing's copy of the orders is behind ordering.")
class SyncStatus:
    feed_id: str | None = strawberry.field(
        description="Identifies ordering's database the copy follows; null before a first pull."
    )
    token: int = strawberry.field(description="The last feed position billing has applied.")
    high_water: int = strawberry.field(description="The last feed position ordering handed out.")
    lag_records: int = strawberry.field(description="How many changes billing has yet to apply.")
    lag_seconds: float = strawberry.field(
        description="How old the oldest change not yet applied is, in seconds."
    )
    last_success_at: datetime | None = strawberry.field(
        description=f"When a pull last succeeded ({DATE_TIME})."
    )
    last_error: str | None = strawberry.field(description="Why the last failed pull failed.")
    last_error_at: datetime | None = strawberry.field(
        description=f"When a pull last failed ({DATE_TIME})."
    )
    consecutive_failures: int = strawberry.field(
        description="Failed pulls in a row (0 after a success)."
    )
    healthy: bool = strawberry.field(description="The pull works and keeps up.")
    health: SyncHealth = strawberry.field(description="Healthy, degraded or failing.")
    health_reason: str = strawberry.field(description="The health in words, for an operator.")
    health_since: datetime | None = strawberry.field(description="Since when; null while healthy.")
    halted: bool = strawberry.field(
        description="The pull stopped: ordering's feed went backwards or changed identity. "
        "An operator re-syncs (`resync`)."
    )
    repairing: bool = strawberry.field(description="A repairing re-sync is running now.")
    dead_letters_open: int = strawberry.field(description="Records waiting in dead letters.")
    dead_letters_oldest_at: datetime | None = strawberry.field(
        description=f"When the oldest open dead letter was set aside ({DATE_TIME})."
    )
    last_repair: RepairReport | None = strawberry.field(
        description="What the last repairing re-sync changed; null if none ran."
    )
    running: bool = strawberry.field(description="A pull is running now.")
    totals: SyncTotals = strawberry.field(description="Counts since billing started.")

    @classmethod
    def from_record(cls, record: SyncStatusRecord) -> SyncStatus:
        return cls(
            **record.model_dump(exclude={"totals", "health", "dead_letters", "last_repair"}),
            health=SyncHealth(record.health),
            dead_letters_open=record.dead_letters.open,
            dead_letters_oldest_at=record.dead_letters.oldest_open_at,
            last_repair=RepairReport.from_record(record.last_repair)
            if record.last_repair
            else None,
            totals=SyncTotals(**record.totals.model_dump()),
        )


@strawberry.type(description="A confirmed order and the way to its invoice.")
class ConfirmOrderPayload:
    order: Order = strawberry.field(description="The order, now confirmed.")
    invoice_link: str = strawberry.field(
        description="Opening this in the browser lands on the order's invoice in billing."
    )


@strawberry.input(description="Who an order is for.")
class CustomerInput:
    name: str = strawberry.field(
        description="1 to 200 characters, at least one visible; surrounding spaces are dropped."
    )
    email: str = strawberry.field(description="An e-mail address, at most 254 characters.")


@strawberry.input(description="One line of an order.")
class OrderLineInput:
    sku: str = strawberry.field(description="The article's stock-keeping unit, 1 to 64 characters.")
    description: str = strawberry.field(
        default="", description="What the article is, at most 500 characters."
    )
    quantity: int = strawberry.field(description="How many, 1 to 100000.")
    unit_price: str = strawberry.field(
        description=(
            "The price of one, a decimal string with at most the currency's decimal places "
            '(ISO 4217): "12.50" in EUR, "13" in JPY; 0 to 1000000000.'
        )
    )


@strawberry.input(description="A draft order's content.")
class OrderInput:
    customer: CustomerInput = strawberry.field(description="Who the order is for.")
    currency: Currency = strawberry.field(  # type: ignore[valid-type]
        default=Currency["EUR"],
        description="The currency of every price; EUR when left out.",
    )
    lines: list[OrderLineInput] = strawberry.field(
        description="0 to 100 lines (a draft may be empty; confirming needs one)."
    )

    def to_wire(self) -> dict[str, Any]:
        """The ordering service's order input (validation is ordering's job, not ours)."""
        return {
            "customer": {"name": self.customer.name, "email": self.customer.email},
            "currency": wire(self.currency),
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
